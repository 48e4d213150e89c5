/*
 * SHA-256 (FIPS 180-4), for API tokens: the configuration stores only
 * their digests. Small and dependency-free; not for bulk data.
 */
#ifndef CW_SHA256_H
#define CW_SHA256_H

#include <stddef.h>
#include <stdint.h>

void cw_sha256(const void *data, size_t len, uint8_t out[32]);
/* Compare two 32-byte digests in time that does not depend on where
 * they differ. */
int cw_digest_equal(const uint8_t a[32], const uint8_t b[32]);

#endif
