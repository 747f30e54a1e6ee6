// Finds IP address entries (GeneralName [7]) in a certificate's subjectAltName extension. Debian's
// wolfSSL is built without its IP-address matching, and API servers are usually reached by IP (the
// in-cluster service address), so the IP check is done here on the end-entity certificate's DER.
#include <string.h>
#include "certificate_names.h"

// One DER element: tag, content and the position after it. Returns 0 on success, -1 if malformed.
static int der_element(const unsigned char **cursor, const unsigned char *end,
                       unsigned *tag, const unsigned char **content, size_t *length) {
    const unsigned char *p = *cursor;
    if (end - p < 2) return -1;
    *tag = *p++;
    size_t len = *p++;
    if (len & 0x80) {
        size_t count = len & 0x7f;
        if (count == 0 || count > 4 || (size_t)(end - p) < count) return -1;
        len = 0;
        while (count--) len = (len << 8) | *p++;
    }
    if ((size_t)(end - p) < len) return -1;
    *content = p;
    *length = len;
    *cursor = p + len;
    return 0;
}

static const unsigned char subject_alt_name_oid[] = {0x55, 0x1d, 0x11};

static int names_contain_ip(const unsigned char *p, const unsigned char *end, const unsigned char *ip, size_t ip_length) {
    unsigned tag;
    const unsigned char *names;
    size_t names_length;
    if (der_element(&p, end, &tag, &names, &names_length) != 0 || tag != 0x30) return 0;
    const unsigned char *q = names, *names_end = names + names_length;
    while (q < names_end) {
        const unsigned char *value;
        size_t value_length;
        if (der_element(&q, names_end, &tag, &value, &value_length) != 0) return 0;
        if (tag == 0x87 && value_length == ip_length && memcmp(value, ip, ip_length) == 0) return 1;
    }
    return 0;
}

int certificate_has_ip_address(const unsigned char *der, size_t der_length, const unsigned char *ip, size_t ip_length) {
    const unsigned char *p = der, *end = der + der_length;
    unsigned tag;
    const unsigned char *certificate, *tbs;
    size_t certificate_length, tbs_length;
    if (der_element(&p, end, &tag, &certificate, &certificate_length) != 0 || tag != 0x30) return 0;
    p = certificate;
    if (der_element(&p, certificate + certificate_length, &tag, &tbs, &tbs_length) != 0 || tag != 0x30) return 0;
    const unsigned char *field = tbs, *tbs_end = tbs + tbs_length;
    while (field < tbs_end) {
        const unsigned char *content;
        size_t length;
        if (der_element(&field, tbs_end, &tag, &content, &length) != 0) return 0;
        if (tag != 0xa3) continue;  // [3] extensions
        const unsigned char *sequence;
        size_t sequence_length;
        const unsigned char *e = content;
        if (der_element(&e, content + length, &tag, &sequence, &sequence_length) != 0 || tag != 0x30) return 0;
        const unsigned char *extension_cursor = sequence, *extensions_end = sequence + sequence_length;
        while (extension_cursor < extensions_end) {
            const unsigned char *extension;
            size_t extension_length;
            if (der_element(&extension_cursor, extensions_end, &tag, &extension, &extension_length) != 0 || tag != 0x30) return 0;
            const unsigned char *x = extension, *extension_end = extension + extension_length;
            const unsigned char *oid;
            size_t oid_length;
            if (der_element(&x, extension_end, &tag, &oid, &oid_length) != 0 || tag != 0x06) return 0;
            if (oid_length != sizeof subject_alt_name_oid || memcmp(oid, subject_alt_name_oid, oid_length) != 0) continue;
            const unsigned char *value;
            size_t value_length;
            if (der_element(&x, extension_end, &tag, &value, &value_length) != 0) return 0;
            if (tag == 0x01 && der_element(&x, extension_end, &tag, &value, &value_length) != 0) return 0;  // critical flag
            if (tag != 0x04) return 0;
            return names_contain_ip(value, value + value_length, ip, ip_length);
        }
    }
    return 0;
}
