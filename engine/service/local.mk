# service: casewarden serve's loop over the store, reloads, readiness,
# and its configuration file.
noinst_LTLIBRARIES += engine/service/libcwservice.la
engine_service_libcwservice_la_SOURCES = \
	engine/service/service.c engine/service/service.h \
	engine/service/config.c engine/service/config.h \
	engine/service/notifier.c engine/service/notifier.h \
	engine/service/group.c engine/service/group.h
