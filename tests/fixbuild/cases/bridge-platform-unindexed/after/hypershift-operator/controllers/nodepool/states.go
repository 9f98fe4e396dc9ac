package nodepool

import (
	"context"
	"fmt"

	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// failureStates lists the provider failure reason of each Machine.
func failureStates(ctx context.Context, c client.Client, machines []capiv1.Machine) []string {
	var out []string
	for _, machine := range machines {
		azureMachineFailureReason := machine.GetAnnotations()[AzureMachineFailureReasonAnnotation]
		if azureMachineFailureReason != "" {
			out = append(out, fmt.Sprintf("%s: %s", machine.Name, azureMachineFailureReason))
		}
	}
	return out
}
