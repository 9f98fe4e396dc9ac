package nodepool

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// guestNodeCount talks to the hosted cluster's API server from the management side.
func guestNodeCount(ctx context.Context, kubeconfig []byte) (int, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig) // want "capi-boundary/hosted-cluster-reach"
	if err != nil {
		return 0, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	_ = cs
	return 0, nil
}
