/* A shared object that is not a casewarden plugin: no entry symbol. */
int cw_not_a_plugin(void);

int cw_not_a_plugin(void)
{
    return 42;
}
