package nodepool

import (
	"context"
	"fmt"

	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// failureStates lists the provider failure reason of each Machine.
func failureStates(ctx context.Context, c client.Client, machines []capiv1.Machine) []string {
	var out []string
	for _, machine := range machines {
		infraRef := machine.Spec.InfrastructureRef
		azureMachine := &capiazure.AzureMachine{}
		key := client.ObjectKey{Namespace: machine.Namespace, Name: infraRef.Name}
		if err := c.Get(ctx, key, azureMachine); err != nil {
			continue
		}
		if azureMachine.Status.FailureReason != nil {
			out = append(out, fmt.Sprintf("%s: %s", machine.Name, *azureMachine.Status.FailureReason))
		}
	}
	return out
}
