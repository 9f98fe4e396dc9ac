package nodepool

import (
	"context"

	capiazure "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fetchAzureMachine has no generic Machine in scope and hands the object on: no bridge.
func fetchAzureMachine(ctx context.Context, c client.Client, key client.ObjectKey) (*capiazure.AzureMachine, error) {
	azureMachine := &capiazure.AzureMachine{}
	if err := c.Get(ctx, key, azureMachine); err != nil {
		return nil, err
	}
	return azureMachine, nil
}
