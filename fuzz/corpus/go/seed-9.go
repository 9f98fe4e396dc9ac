package nodepool

import (
	capiaws "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2" // want "capi-boundary/provider-import"
)

// Templates are fine; the cluster kind is platform logic in a generic file.
func awsThings(t *capiaws.AWSMachineTemplate) string {
	var cluster capiaws.AWSCluster
	return t.Name + cluster.Name
}
