# store: the one module that knows the MariaDB schema.
noinst_LTLIBRARIES += engine/store/libcwstore.la
engine_store_libcwstore_la_SOURCES = \
	engine/store/db.c engine/store/store.h
engine_store_libcwstore_la_LIBADD = $(MARIADB_LIBS)
