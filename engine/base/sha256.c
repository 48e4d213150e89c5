#include "base/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <stdio.h>
#include <stdlib.h>

void cw_sha256(const void *data, size_t len, uint8_t out[32])
{
    SHA256(data, len, out);
}

void cw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;

    /* HMAC() takes no NULL key even for an empty one */
    if (HMAC(EVP_sha256(), keylen ? key : "", (int)keylen, data, len, out, &n) == NULL) {
        /* only an allocation failure inside libcrypto gets here */
        fputs("casewarden: HMAC-SHA256 failed in libcrypto\n", stderr);
        abort();
    }
}

void cw_digest_hex(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

int cw_digest_equal(const uint8_t a[32], const uint8_t b[32])
{
    return CRYPTO_memcmp(a, b, 32) == 0;
}
