#include <stdlib.h>
#include <string.h>
#include "pem_certificates.h"

// mbedTLS decodes PEM with constant-time base64, a defence for private keys that costs more than the
// rest of a resumed handshake; a CA bundle is public, so it is decoded here with a plain table.
static signed char base64_table[256];

static void fill_table(void) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(base64_table, -1, sizeof base64_table);
    for (int i = 0; i < 64; i++) base64_table[(unsigned char)alphabet[i]] = (signed char)i;
}

static const unsigned char *find(const unsigned char *from, const unsigned char *limit, const char *needle) {
    size_t length = strlen(needle);
    for (const unsigned char *p = from; p + length <= limit; p++) {
        if (*p == (unsigned char)needle[0] && memcmp(p, needle, length) == 0) return p;
    }
    return NULL;
}

/// Decodes base64 from [from, to) into out (capacity at least 3/4 of the input); whitespace skipped,
/// '=' ends. Returns the length, or -1 on a character outside the alphabet.
static long decode(const unsigned char *from, const unsigned char *to, unsigned char *out) {
    unsigned accumulator = 0;
    int bits = 0;
    long length = 0;
    for (const unsigned char *p = from; p < to; p++) {
        if (*p == '=') break;
        if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t') continue;
        int value = base64_table[*p];
        if (value < 0) return -1;
        accumulator = (accumulator << 6) | (unsigned)value;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[length++] = (unsigned char)(accumulator >> bits);
        }
    }
    return length;
}

int parse_pem_certificates(mbedtls_x509_crt *chain, const unsigned char *pem, size_t length) {
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    if (base64_table[0] == 0) fill_table();
    const unsigned char *cursor = pem, *limit = pem + length, *start;
    int count = 0;
    while ((start = find(cursor, limit, begin)) != NULL) {
        const unsigned char *body = start + sizeof begin - 1;
        const unsigned char *stop = find(body, limit, end);
        if (!stop) return MBEDTLS_ERR_X509_INVALID_FORMAT;
        unsigned char *der = malloc((size_t)(stop - body) * 3 / 4 + 4);
        if (!der) return MBEDTLS_ERR_X509_ALLOC_FAILED;
        long der_length = decode(body, stop, der);
        int code = der_length < 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT : mbedtls_x509_crt_parse_der(chain, der, (size_t)der_length);
        free(der);
        if (code != 0) return code;
        count++;
        cursor = stop + sizeof end - 1;
    }
    return count;
}
