package nodepool

import (
	"context"
	"fmt"

	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// machineFailureMessages lists each Machine's provider failure message: generic code reading
// AzureMachines, the case the annotation bridge exists for (written for the fix-build test; the
// real tree has no such read).
func machineFailureMessages(ctx context.Context, c client.Client, machines *capiv1.MachineList) []string {
	var messages []string
	for _, machine := range machines.Items {
		infraRef := machine.Spec.InfrastructureRef
		azureMachine := &capiazure.AzureMachine{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: infraRef.Namespace, Name: infraRef.Name}, azureMachine); err != nil {
			continue
		}
		if azureMachine.Status.FailureMessage != nil {
			messages = append(messages, fmt.Sprintf("%s: %s", machine.Name, *azureMachine.Status.FailureMessage))
		}
	}
	return messages
}
