package ingress

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"time"

	component "github.com/openshift/hypershift/support/controlplane-component"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var reconcileCount int

func adaptDeployment(cpContext component.WorkloadContext, deployment *appsv1.Deployment) error {
	if err := cpContext.Client.Get(cpContext, client.ObjectKeyFromObject(deployment), deployment); err != nil { // want "adapt-purity/read-back"
		return err
	}
	deployment.Spec.Template.Annotations = map[string]string{
		"proxy":     os.Getenv("HTTP_PROXY"), // want "adapt-purity/environment"
		"restarted": restartStamp(), // want "adapt-purity/clock"
		"nonce":     nonce(), // want "adapt-purity/random"
	}
	reconcileCount++ // want "adapt-purity/global-write"
	return nil
}

// adaptConfigMap only reads the HostedControlPlane: pure.
func adaptConfigMap(cpContext component.WorkloadContext, cm *corev1.ConfigMap) error {
	cm.Data = map[string]string{"domain": cpContext.HCP.Spec.DNS.BaseDomain}
	return nil
}

func restartStamp() string {
	return formatStamp()
}

func formatStamp() string {
	return time.Now().Format(time.RFC3339)
}

func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
