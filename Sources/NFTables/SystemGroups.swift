import Glibc
import Interception

/// The node's group database through NSS (`getgrnam_r`), which is what iptables and nft consult for a
/// group name; the plugin runs in the node's mount namespace, so it sees the same /etc/group.
public struct SystemGroups: GroupDirectory {
    public init() {}

    public func groupID(named name: String) -> UInt32? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var capacity = 1024
        // Large groups (many members) need a bigger buffer: ERANGE asks for one, up to 1 MiB.
        while capacity <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let status = getgrnam_r(name, &entry, &buffer, capacity, &found)
            if status == ERANGE {
                capacity *= 4
                continue
            }
            guard status == 0, found != nil else { return nil }
            return entry.gr_gid
        }
        return nil
    }
}
