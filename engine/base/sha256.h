/*
 * SHA-256 and HMAC-SHA256 from OpenSSL's libcrypto: API tokens (the
 * configuration stores only their digests) and the signatures of
 * notification webhooks.
 */
#ifndef CW_SHA256_H
#define CW_SHA256_H

#include <stddef.h>
#include <stdint.h>

void cw_sha256(const void *data, size_t len, uint8_t out[32]);
/* HMAC-SHA256 of data under key. */
void cw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32]);
/* The 64 lowercase hex digits of a digest, NUL-terminated. */
void cw_digest_hex(const uint8_t d[32], char out[65]);
/* Compare two 32-byte digests in time that does not depend on where
 * they differ. */
int cw_digest_equal(const uint8_t a[32], const uint8_t b[32]);

#endif
