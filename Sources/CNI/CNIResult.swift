/// A Success result in a version-neutral form (the union of every spec version's fields). Decoded
/// from a `prevResult` of any version and encoded into the request's version.
public struct CNIResult: Equatable, Sendable {
    public struct Interface: Equatable, Sendable {
        public var name: String
        public var mac: String?
        public var mtu: Int?
        public var sandbox: String?
        public var socketPath: String?
        public var pciID: String?

        public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil,
                    socketPath: String? = nil, pciID: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
            self.socketPath = socketPath
            self.pciID = pciID
        }
    }

    public struct IPConfig: Equatable, Sendable {
        /// The address with prefix length, as the previous plugin wrote it ("203.0.113.6/24").
        public var address: String
        public var gateway: String?
        /// Index into `interfaces`.
        public var interface: Int?
        public var isIPv4: Bool { IPPrefix(address)?.isIPv4 ?? !address.contains(":") }

        public init(address: String, gateway: String? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Equatable, Sendable {
        public var destination: String
        public var gateway: String?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?
        public var isIPv4: Bool { IPPrefix(destination)?.isIPv4 ?? !destination.contains(":") }

        public init(destination: String, gateway: String? = nil, mtu: Int? = nil, advmss: Int? = nil,
                    priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.destination = destination
            self.gateway = gateway
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    public struct DNS: Equatable, Sendable {
        public var nameservers: [String] = []
        public var domain: String?
        public var search: [String] = []
        public var options: [String] = []

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }
    }

    public var interfaces: [Interface] = []
    public var ips: [IPConfig] = []
    public var routes: [Route] = []
    public var dns = DNS()

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    public static let empty = CNIResult()
}
