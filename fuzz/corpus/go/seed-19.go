package nodepool

import (
	"context"
	"fmt"
	"strings"

	hyperv1 "github.com/openshift/hypershift/api/hypershift/v1beta1"
	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	capiv1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NodePoolReconciler reconciles NodePools on the management cluster.
type NodePoolReconciler struct {
	client.Client
}

// setCapacityErrorCondition surfaces Azure VMSS capacity errors on the NodePool (OCPBUGS-48291).
func (r *NodePoolReconciler) setCapacityErrorCondition(ctx context.Context, nodePool *hyperv1.NodePool, machines []capiv1.Machine) error {
	var messages []string
	for _, machine := range machines {
		azureMachine := &capiazure.AzureMachine{} // want "capi-boundary/provider-read"
		key := client.ObjectKey{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}
		if err := r.Get(ctx, key, azureMachine); err != nil {
			return err
		}
		if azureMachine.Status.FailureMessage != nil {
			messages = append(messages, fmt.Sprintf("Machine %s: %s", machine.Name, *azureMachine.Status.FailureMessage))
		}
	}
	if len(messages) == 0 {
		return nil
	}
	nodePool.Status.Conditions = append(nodePool.Status.Conditions, hyperv1.NodePoolCondition{
		Type:    hyperv1.NodePoolCapacityErrorConditionType,
		Status:  "False",
		Reason:  "capacity_error", // want "condition-naming/reason-literal"
		Message: strings.Join(messages, "\n"), // want "condition-naming/message-list"
	})
	return nil
}
