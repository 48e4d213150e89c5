# law: the legal calendar and period arithmetic, ages, the event catalogue.
noinst_LTLIBRARIES += engine/law/libcwlaw.la
engine_law_libcwlaw_la_SOURCES = \
	engine/law/age.c engine/law/age.h \
	engine/law/calendar.c engine/law/calendar.h \
	engine/law/catalogue.c engine/law/catalogue.h
