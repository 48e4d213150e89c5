# store: the one module that knows the MariaDB schema; every statement
# of the program is here.
noinst_LTLIBRARIES += engine/store/libcwstore.la
engine_store_libcwstore_la_SOURCES = \
	engine/store/store.h engine/store/db.h engine/store/db.c \
	engine/store/schema.c engine/store/events.c engine/store/findings.c \
	engine/store/reviews.c engine/store/snapshot.c engine/store/rows.h engine/store/rows.c \
	engine/store/exemptions.c engine/store/changes.c engine/store/reports.c \
	engine/store/notify.c \
	engine/store/leases.c
engine_store_libcwstore_la_LIBADD = $(MARIADB_LIBS)
engine_store_libcwstore_la_CFLAGS = $(AM_CFLAGS) $(MARIADB_CFLAGS)
