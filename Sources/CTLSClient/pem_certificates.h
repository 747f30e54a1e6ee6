#ifndef CTLS_PEM_CERTIFICATES_H
#define CTLS_PEM_CERTIFICATES_H
#include <mbedtls/x509_crt.h>
#include <stddef.h>
/// Adds every PEM CERTIFICATE in `pem` to `chain`. Returns the number added, or a negative mbedTLS
/// error code from the first certificate that does not parse.
int parse_pem_certificates(mbedtls_x509_crt *chain, const unsigned char *pem, size_t length);
#endif
