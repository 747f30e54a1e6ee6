import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
import _CryptoExtras

/// The emulator's own certificate authority and serving certificate, made fresh at start-up.
/// RSA-2048 by default, like kubeadm's cluster CA and apiserver certificate.
public struct EmulatorIdentity: Sendable {
    public enum KeyType: String, Sendable, CaseIterable {
        case rsa2048 = "rsa"
        case ecdsaP256 = "ecdsa"
    }

    public let caCertificatePEM: String
    let serverCertificate: NIOSSLCertificate
    let serverKey: NIOSSLPrivateKey

    public init(keyType: KeyType, hostnames: [String] = ["localhost", "kubernetes.default.svc"],
                addresses: [[UInt8]] = [[127, 0, 0, 1], [UInt8](repeating: 0, count: 15) + [1]]) throws {
        let (caKey, caKeyPEM) = try Self.makeKey(keyType)
        let (serverKey, serverKeyPEM) = try Self.makeKey(keyType)
        _ = caKeyPEM
        let algorithm: Certificate.SignatureAlgorithm = keyType == .rsa2048 ? .sha256WithRSAEncryption : .ecdsaWithSHA256
        let now = Date()
        let caName = try DistinguishedName { CommonName("kube-emulator-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: caKey)
        let names = hostnames.map { GeneralName.dnsName($0) } + addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: serverKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: try DistinguishedName { CommonName("kube-apiserver") }, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType == .rsa2048))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: caKey)
        caCertificatePEM = try ca.serializeAsPEM().pemString + "\n"
        var serializer = DER.Serializer()
        try serializer.serialize(server)
        serverCertificate = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        self.serverKey = try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem)
    }

    private static func makeKey(_ type: KeyType) throws -> (Certificate.PrivateKey, String) {
        switch type {
        case .rsa2048:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (Certificate.PrivateKey(key), key.pemRepresentation)
        case .ecdsaP256:
            let key = P256.Signing.PrivateKey()
            return (Certificate.PrivateKey(key), key.pemRepresentation)
        }
    }

    func makeServerContext(versions: EmulatorTLSVersions) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(serverCertificate)],
                                                                     privateKey: .privateKey(serverKey))
        configuration.minimumTLSVersion = versions.minimum.nioVersion
        configuration.maximumTLSVersion = versions.maximum?.nioVersion
        return try NIOSSLContext(configuration: configuration)
    }
}

/// The TLS versions the emulator accepts, like kube-apiserver's `--tls-min-version` (and, for tests of
/// a client that must refuse old servers, a maximum).
public struct EmulatorTLSVersions: Sendable, Equatable {
    public enum Version: String, Sendable, CaseIterable {
        case tls11 = "1.1"
        case tls12 = "1.2"
        case tls13 = "1.3"

        var nioVersion: TLSVersion {
            switch self {
            case .tls11: .tlsv11
            case .tls12: .tlsv12
            case .tls13: .tlsv13
            }
        }
    }

    public var minimum: Version
    public var maximum: Version?

    public init(minimum: Version = .tls12, maximum: Version? = nil) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// kube-apiserver's default: TLS 1.2 and 1.3.
    public static let standard = EmulatorTLSVersions()
    /// `--tls-min-version=VersionTLS13` (OpenShift's Modern profile).
    public static let tls13Only = EmulatorTLSVersions(minimum: .tls13)
    public static let tls12Only = EmulatorTLSVersions(minimum: .tls12, maximum: .tls12)
}
