# event: one event read and validated against the catalogue, and the
# compact record it is kept as.
noinst_LTLIBRARIES += engine/event/libcwevent.la
engine_event_libcwevent_la_SOURCES = \
	engine/event/evjson.c engine/event/evjson.h \
	engine/event/record.c engine/event/record.h
