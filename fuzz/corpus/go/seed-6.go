package nodepool

import (
	"context"
	"fmt"

	capz "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// capacityErrors reads AzureMachines directly: the NodePool controller crosses the CAPI boundary.
func (r *NodePoolReconciler) capacityErrors(ctx context.Context, machines []capiv1.Machine) ([]string, error) {
	var errs []string
	for _, machine := range machines {
		azureMachine := &capz.AzureMachine{} // want "capi-boundary/provider-read"
		key := client.ObjectKey{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}
		if err := r.Client.Get(ctx, key, azureMachine); err != nil {
			return nil, err
		}
		if azureMachine.Status.FailureMessage != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", machine.Name, *azureMachine.Status.FailureMessage))
		}
	}
	return errs, nil
}

// listAzureMachines lists them through the List kind.
func (r *NodePoolReconciler) listAzureMachines(ctx context.Context) (int, error) {
	list := capz.AzureMachineList{} // want "capi-boundary/provider-read"
	if err := r.Client.List(ctx, &list); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// machineStatus takes a provider Machine as a parameter: still a read of provider objects.
func machineStatus(m *capz.AzureMachine) string { // want "capi-boundary/provider-read"
	return string(m.Status.VMState)
}

// Owning templates is how the NodePool controller works: no finding.
func azureTemplateName(t *capz.AzureMachineTemplate) string {
	gvk := capz.GroupVersion.WithKind("AzureMachineTemplate")
	return gvk.Kind + "/" + t.Name
}
