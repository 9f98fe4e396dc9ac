package nodepool

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	capiaws "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2" // want "capi-boundary/provider-import"
)

// countGuestNodes asks the hosted cluster directly: the management side must not.
func countGuestNodes(ctx context.Context, kubeconfig []byte) (int, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig) // want "capi-boundary/hosted-cluster-reach"
	if err != nil {
		return 0, err
	}
	guest, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	_ = guest
	return 0, nil
}

// awsClusterName uses provider cluster kinds from a generic file.
func awsClusterName(c *capiaws.AWSCluster) string {
	return c.Name
}
