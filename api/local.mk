# The HTTP API: a convenience library the binary links; engine/ never
# includes anything from here.
noinst_LTLIBRARIES += api/libcwapi.la
api_libcwapi_la_SOURCES = api/api.h api/api_int.h api/server.c api/events.c api/findings.c \
	api/misc.c api/sanctions.c api/params.c api/exemptions.c api/reports.c api/stream.c \
	api/console.c api/guard.c api/accept.c api/notifications.c
api_libcwapi_la_LIBADD = $(MHD_LIBS) $(JANSSON_LIBS)
api_libcwapi_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS)
api_libcwapi_la_CPPFLAGS = $(AM_CPPFLAGS) -DCW_CONSOLEDIR='"$(pkgdatadir)/console"'

# The console (api/console/): plain files, no build step of their own.
# They are copied into console/ of the build tree, where serve finds them
# beside the program, with ECharts' dist file from npm (api/console/
# package.json; scripts/build.sh runs `npm ci`) as console/vendor/, and
# installed in $(pkgdatadir)/console.
CONSOLE_FILES = index.html console.css js/app.js js/api.js js/dom.js js/labels.js js/time.js \
	js/stream.js js/queue.js js/case.js js/reports.js
CONSOLE_ECHARTS = $(top_srcdir)/api/console/node_modules/echarts/dist/echarts.min.js
EXTRA_DIST += api/console/index.html api/console/console.css api/console/js \
	api/console/package.json api/console/package-lock.json
consoledir = $(pkgdatadir)/console

console-files:
	@$(MKDIR_P) console/js console/vendor
	@for f in $(CONSOLE_FILES); do \
	  cmp -s $(top_srcdir)/api/console/$$f console/$$f || cp $(top_srcdir)/api/console/$$f console/$$f; done
	@if [ -f $(CONSOLE_ECHARTS) ]; then \
	  cmp -s $(CONSOLE_ECHARTS) console/vendor/echarts.min.js || cp $(CONSOLE_ECHARTS) console/vendor/echarts.min.js; \
	else echo "console: $(CONSOLE_ECHARTS) is missing (npm ci in api/console): the reports page has no charts" >&2; fi
.PHONY: console-files
all-local: console-files

install-data-local: console-files
	$(MKDIR_P) $(DESTDIR)$(consoledir)/js $(DESTDIR)$(consoledir)/vendor
	for f in $(CONSOLE_FILES); do $(INSTALL_DATA) console/$$f $(DESTDIR)$(consoledir)/$$f; done
	if [ -f console/vendor/echarts.min.js ]; then \
	  $(INSTALL_DATA) console/vendor/echarts.min.js $(DESTDIR)$(consoledir)/vendor/echarts.min.js; fi

uninstall-local:
	rm -rf $(DESTDIR)$(consoledir)
