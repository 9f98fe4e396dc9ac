package nodepool

import (
	"context"

	. "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A dot import hides the package name, not the boundary.
func awsInstanceState(ctx context.Context, c client.Client, key client.ObjectKey) (string, error) {
	m := &AWSMachine{} // want "capi-boundary/provider-read"
	if err := c.Get(ctx, key, m); err != nil {
		return "", err
	}
	return string(*m.Status.InstanceState), nil
}

func awsTemplate() *AWSMachineTemplate {
	return &AWSMachineTemplate{}
}
