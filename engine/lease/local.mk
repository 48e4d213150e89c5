# lease: the arithmetic of partition leases (claim, renew, expiry,
# takeover, fencing, fair shares). Depends on nothing, not even base, so
# its tests link it alone; the SQL that keeps the rows is engine/store.
noinst_LTLIBRARIES += engine/lease/libcwlease.la
engine_lease_libcwlease_la_SOURCES = engine/lease/lease.c engine/lease/lease.h
