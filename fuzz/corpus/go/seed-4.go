package haproxy

import "k8s.io/client-go/tools/clientcmd"

// Parsing a kubeconfig for its host name reaches nothing: no finding (as in the real haproxy.go).
func apiServerHost(kubeconfig []byte) (string, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return "", err
	}
	return cfg.Host, nil
}
