import CNI
import Glibc
import Kubernetes
import PluginCore

// istio-cni: the CNI plugin the container runtime runs for every pod. The runtime passes the command
// in CNI_* variables and the network configuration on stdin; stdout carries exactly one result or
// error document.

let startedAt = MonotonicClock.now
let pluginVersion = "0.1.0"

if CommandLine.arguments.dropFirst().first == "--version" {
    ProcessIO.write(Array("istio-cni \(pluginVersion) (Swift), CNI \(CNIVersion.supportedList)\n".utf8), to: 1)
    exit(0)
}

let environment = ProcessIO.environment()
if environment["CNI_COMMAND"] == nil {
    PluginLog().info("istio-cni \(pluginVersion): a CNI plugin, run by the container runtime with CNI_COMMAND set")
}
let output = CNIDispatcher.run(environment: environment, readStdin: ProcessIO.readStandardInput,
                               plugin: IstioCNIPlugin(processEnvironment: environment, startedAt: startedAt))
ProcessIO.write(Array(output.stdout.utf8), to: 1)
// Everything was written with write(2); nothing buffered is left to flush, so skip exit handlers.
_exit(output.exitCode)
