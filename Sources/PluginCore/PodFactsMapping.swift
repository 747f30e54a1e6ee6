import Interception
import Kubernetes

extension PodFacts {
    /// The interception view of a pod fetched from the API.
    public init(_ pod: Pod) {
        func facts(_ container: Pod.Container) -> ContainerFacts {
            ContainerFacts(name: container.name, args: container.args, environment: container.environment,
                           runAsUser: container.runAsUser, runAsGroup: container.runAsGroup)
        }
        self.init(name: pod.name, namespace: pod.namespace, labels: pod.labels, annotations: pod.annotations,
                  containers: pod.containers.map(facts), initContainers: pod.initContainers.map(facts))
    }
}
