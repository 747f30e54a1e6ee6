import CNI
import Testing

@Suite struct EnvironmentTests {
    static let add = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc-1.x_y", "CNI_NETNS": "/run/netns/x", "CNI_IFNAME": "eth0"]

    func code(_ environment: [String: String]) -> Int? {
        do {
            _ = try CNIEnvironment.parse(environment)
            return nil
        } catch {
            return error.code.rawValue
        }
    }

    func message(_ environment: [String: String]) -> String {
        do {
            _ = try CNIEnvironment.parse(environment)
            return ""
        } catch {
            return error.message
        }
    }

    @Test func requiredVariablesPerCommand() {
        #expect(code(Self.add) == nil)
        #expect(message(Self.add.filter { $0.key != "CNI_NETNS" }).contains("CNI_NETNS"))
        #expect(code(Self.add.filter { $0.key != "CNI_NETNS" }) == 4)
        var delete = Self.add.filter { $0.key != "CNI_NETNS" }
        delete["CNI_COMMAND"] = "DEL"
        #expect(code(delete) == nil, "CNI_NETNS is optional on DEL")
        #expect(message(["CNI_COMMAND": "GC"]).contains("CNI_PATH"))
        #expect(code(["CNI_COMMAND": "VERSION"]) == nil)
        #expect(code(["CNI_COMMAND": "STATUS"]) == nil)
        #expect(message([:]).contains("CNI_COMMAND is not set"))
        #expect(message(["CNI_COMMAND": "ATTACH"]).contains("\"ATTACH\""))
    }

    @Test(arguments: ["-abc", "a b", "a/b", "é", ""])
    func rejectsInvalidContainerIDs(id: String) {
        var environment = Self.add
        environment["CNI_CONTAINERID"] = id
        #expect(code(environment) == 4)
    }

    @Test(arguments: ["this-is-sixteen!", ".", "..", "a/b", "a:b", "a b"])
    func rejectsInvalidInterfaceNames(name: String) {
        var environment = Self.add
        environment["CNI_IFNAME"] = name
        #expect(message(environment).contains("CNI_IFNAME"))
    }

    @Test func parsesKubernetesArguments() throws {
        var environment = Self.add
        environment["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID=u-1;K8S_POD_INFRA_CONTAINER_ID=abc;FOO=bar;"
        let args = try CNIEnvironment.parse(environment).args
        #expect(args.podName == "web")
        #expect(args.podNamespace == "default")
        #expect(args.podUID == "u-1")
        #expect(args.podInfraContainerID == "abc")
    }

    @Test func argumentRules() throws {
        #expect(try CNIArgs.parse("K8S_POD_NAME=a;K8S_POD_NAME=b").podName == "b", "the last duplicate wins, as with libcni")
        #expect(try CNIArgs.parse("IgnoreUnknown=true;X=1").ignoreUnknown)
        #expect(try CNIArgs.parse("K8S_POD_NAME=").podName == nil)
        for (text, fragment) in [("FOO=1", "unknown key \"FOO\""), ("K8S_POD_NAME", "invalid pair"), ("=x", "invalid pair"),
                                 ("a=b=c", "invalid pair"), ("IgnoreUnknown=yes", "not a boolean")] {
            #expect {
                try CNIArgs.parse(text)
            } throws: { error in
                (error as? CNIError)?.code == .invalidEnvironment && (error as? CNIError)?.message.contains(fragment) == true
            }
        }
    }
}
