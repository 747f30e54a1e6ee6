import CHeapTuning
import CNI
import Glibc
import Kubernetes
import PluginCore

// istio-cni: the CNI plugin the container runtime runs for every pod. The runtime passes the command
// in CNI_* variables and the network configuration on stdin; stdout carries exactly one result or
// error document.

let startedAt = MonotonicClock.now
// A pod with long exclusion lists builds (and drops) arrays of megabytes; from the heap their pages
// are faulted in once instead of once per array.
heap_keep_large_blocks()
let pluginVersion = "0.1.0"

if CommandLine.arguments.dropFirst().first == "--version" {
    ProcessIO.write(Array("istio-cni \(pluginVersion) (Swift), CNI \(CNIVersion.supportedList)\n".utf8), to: 1)
    exit(0)
}

let environment = ProcessIO.environment()
let log = PluginLog()
if environment["CNI_COMMAND"] == nil {
    log.info("istio-cni \(pluginVersion): a CNI plugin, run by the container runtime with CNI_COMMAND set")
}
let output = CNIDispatcher.run(environment: environment, readStdin: ProcessIO.readStandardInput,
                               plugin: IstioCNIPlugin(processEnvironment: environment, log: log, startedAt: startedAt))
ProcessIO.write(Array(output.stdout.utf8), to: 1)
// The runtime has its answer; now tell the node agent (its log explains every pod).
if let command = environment["CNI_COMMAND"], ["ADD", "DEL", "CHECK"].contains(command) {
    AgentReport.send(log: log, command: command, containerID: environment["CNI_CONTAINERID"], exitCode: output.exitCode,
                     errorMessage: output.exitCode == 0 ? nil : output.errorMessage, startedAt: startedAt)
}
// Everything was written with write(2); nothing buffered is left to flush, so skip exit handlers.
_exit(output.exitCode)
