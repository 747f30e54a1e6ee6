#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trust_anchors.h"

typedef struct {
    unsigned char *data;
    size_t length, capacity;
    int overflow;
} byte_buffer;

static void buffer_append(void *context, const void *data, size_t length) {
    byte_buffer *buffer = context;
    if (buffer->overflow) return;
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 4096;
        while (capacity < buffer->length + length) capacity *= 2;
        if (capacity > (1u << 20)) { buffer->overflow = 1; return; }
        unsigned char *grown = realloc(buffer->data, capacity);
        if (!grown) { buffer->overflow = 1; return; }
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
}

static unsigned char *copy_bytes(const unsigned char *data, size_t length) {
    unsigned char *copy = malloc(length ? length : 1);
    if (copy && length) memcpy(copy, data, length);
    return copy;
}

static int add_anchor(trust_anchor_list *list, const byte_buffer *der, char *error, size_t error_length) {
    byte_buffer dn = {0};
    br_x509_decoder_context decoder;
    br_x509_decoder_init(&decoder, buffer_append, &dn);
    br_x509_decoder_push(&decoder, der->data, der->length);
    const br_x509_pkey *key = br_x509_decoder_get_pkey(&decoder);
    if (!key || dn.overflow) {
        snprintf(error, error_length, "CA certificate %zu cannot be decoded (BearSSL error %d)", list->count + 1,
                 br_x509_decoder_last_error(&decoder));
        free(dn.data);
        return -1;
    }
    br_x509_trust_anchor *grown = realloc(list->anchors, (list->count + 1) * sizeof *grown);
    if (!grown) { free(dn.data); snprintf(error, error_length, "out of memory"); return -1; }
    list->anchors = grown;
    br_x509_trust_anchor *anchor = &list->anchors[list->count++];
    memset(anchor, 0, sizeof *anchor);
    anchor->dn.data = dn.data;
    anchor->dn.len = dn.length;
    anchor->flags = br_x509_decoder_isCA(&decoder) ? BR_X509_TA_CA : 0;
    anchor->pkey.key_type = key->key_type;
    if (key->key_type == BR_KEYTYPE_RSA) {
        anchor->pkey.key.rsa.n = copy_bytes(key->key.rsa.n, key->key.rsa.nlen);
        anchor->pkey.key.rsa.nlen = key->key.rsa.nlen;
        anchor->pkey.key.rsa.e = copy_bytes(key->key.rsa.e, key->key.rsa.elen);
        anchor->pkey.key.rsa.elen = key->key.rsa.elen;
    } else {
        anchor->pkey.key.ec.curve = key->key.ec.curve;
        anchor->pkey.key.ec.q = copy_bytes(key->key.ec.q, key->key.ec.qlen);
        anchor->pkey.key.ec.qlen = key->key.ec.qlen;
    }
    return 0;
}

int trust_anchors_from_pem(const unsigned char *pem, size_t length, trust_anchor_list *out, char *error, size_t error_length) {
    out->anchors = NULL;
    out->count = 0;
    br_pem_decoder_context decoder;
    br_pem_decoder_init(&decoder);
    byte_buffer der = {0};
    int in_certificate = 0;
    while (length > 0) {
        size_t used = br_pem_decoder_push(&decoder, pem, length);
        pem += used;
        length -= used;
        switch (br_pem_decoder_event(&decoder)) {
        case BR_PEM_BEGIN_OBJ:
            in_certificate = strcmp(br_pem_decoder_name(&decoder), "CERTIFICATE") == 0;
            der.length = 0;
            br_pem_decoder_setdest(&decoder, in_certificate ? buffer_append : NULL, in_certificate ? &der : NULL);
            break;
        case BR_PEM_END_OBJ:
            if (in_certificate && (der.overflow || add_anchor(out, &der, error, error_length) != 0)) {
                if (der.overflow) snprintf(error, error_length, "CA certificate is too large");
                free(der.data);
                trust_anchors_free(out);
                return -1;
            }
            in_certificate = 0;
            break;
        case BR_PEM_ERROR:
            snprintf(error, error_length, "CA data is not valid PEM");
            free(der.data);
            trust_anchors_free(out);
            return -1;
        default:
            break;
        }
    }
    free(der.data);
    if (out->count == 0) {
        snprintf(error, error_length, "CA data contains no PEM CERTIFICATE");
        return -1;
    }
    return 0;
}

void trust_anchors_free(trust_anchor_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        br_x509_trust_anchor *anchor = &list->anchors[i];
        free(anchor->dn.data);
        if (anchor->pkey.key_type == BR_KEYTYPE_RSA) {
            free(anchor->pkey.key.rsa.n);
            free(anchor->pkey.key.rsa.e);
        } else {
            free(anchor->pkey.key.ec.q);
        }
    }
    free(list->anchors);
    list->anchors = NULL;
    list->count = 0;
}
