/// Kubernetes object-name rules, applied to the pod name and namespace from CNI_ARGS before they go
/// into an API path.
enum KubernetesNames {
    /// RFC 1123 label: namespaces.
    static func isLabel(_ name: String) -> Bool {
        name.utf8.count <= 63 && isSubdomainPart(Substring(name))
    }

    /// RFC 1123 subdomain: pod names.
    static func isSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isSubdomainPart)
    }

    private static func isSubdomainPart(_ part: Substring) -> Bool {
        guard let first = part.unicodeScalars.first, let last = part.unicodeScalars.last,
              isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return part.unicodeScalars.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
    }

    private static func isLowerAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value) || (0x61...0x7A).contains(scalar.value)
    }
}
