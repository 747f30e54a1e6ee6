/// Kubernetes name rules: for the pod name and namespace from CNI_ARGS before they go into an API
/// path, and for the agent's settings.
public enum KubernetesNames {
    /// RFC 1123 label: namespaces.
    public static func isLabel(_ name: String) -> Bool {
        name.utf8.count <= 63 && isSubdomainPart(Substring(name))
    }

    /// RFC 1123 subdomain: pod names.
    public static func isSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isSubdomainPart)
    }

    /// A label value: empty, or up to 63 letters, digits, `-`, `_`, `.`, alphanumeric at both ends.
    public static func isLabelValue(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return true }
        func alphanumeric(_ scalar: Unicode.Scalar) -> Bool { isLowerAlphanumeric(scalar) || (0x41...0x5A).contains(scalar.value) }
        return text.utf8.count <= 63 && alphanumeric(first) && alphanumeric(last)
            && text.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// A label or annotation key: an optional DNS-subdomain prefix and `/`, then a non-empty name.
    public static func isQualifiedKey(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let name = parts.last, !name.isEmpty, isLabelValue(String(name)) else { return false }
        return parts.count == 1 || (parts.count == 2 && isSubdomain(String(parts[0])))
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
