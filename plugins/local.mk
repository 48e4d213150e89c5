# Models as plugins: shared objects that see only include/casewarden/plugin.h.
CW_PLUGIN_LDFLAGS = -module -avoid-version -shared -no-undefined
pkglib_LTLIBRARIES += plugins/deadline.la
plugins_deadline_la_SOURCES = plugins/deadline.c plugins/common.h
plugins_deadline_la_CPPFLAGS = -I$(top_srcdir)/include
plugins_deadline_la_LDFLAGS = $(CW_PLUGIN_LDFLAGS)
pkglib_LTLIBRARIES += plugins/discretion.la
plugins_discretion_la_SOURCES = plugins/discretion.c plugins/common.h
plugins_discretion_la_CPPFLAGS = -I$(top_srcdir)/include
plugins_discretion_la_LDFLAGS = $(CW_PLUGIN_LDFLAGS)
