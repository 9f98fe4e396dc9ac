package nodepool

import (
	"context"

	capiaws "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The AWS platform file may read AWSMachines: no finding.
func (r *NodePoolReconciler) reconcileAWSMachines(ctx context.Context) error {
	list := &capiaws.AWSMachineList{}
	return r.Client.List(ctx, list, client.InNamespace("ns"))
}
