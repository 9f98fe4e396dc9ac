package widget

import (
	"os"

	component "github.com/openshift/hypershift/support/controlplane-component"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

var lastImage string

// adaptDeployment reads through the context's client and the environment, and calls a helper
// chain (defined in helpers.go) that reads the clock.
func adaptDeployment(cpContext component.WorkloadContext, deployment *appsv1.Deployment) error {
	secret := &corev1.Secret{}
	if err := cpContext.Client.Get(cpContext, client.ObjectKeyFromObject(secret), secret); err != nil { // want "adapt-purity/api-call"
		return err
	}
	proxy := os.Getenv("HTTP_PROXY") // want "adapt-purity/io"
	lastImage = deployment.Spec.Template.Spec.Containers[0].Image // want "adapt-purity/global-write"
	deployment.Spec.Template.Annotations = stampAnnotations(proxy) // want "adapt-purity/clock"
	return nil
}

// configureConfigMap is registered with WithAdaptFunction under another name.
func configureConfigMap(cpContext component.WorkloadContext, cm *corev1.ConfigMap) error {
	cm.Data = map[string]string{"token": randomToken(16)} // want "adapt-purity/random"
	return nil
}

// adaptRoute is a method value registered as `w.adaptRoute`.
func (w *widget) adaptRoute(cpContext component.WorkloadContext, svc *corev1.Service) error {
	svc.Labels = w.labels() // want "adapt-purity/io"
	return nil
}

func (w *widget) labels() map[string]string {
	return map[string]string{"host": hostname()}
}

// adaptKubeconfig is recognised by its name and first parameter, without registration.
func adaptKubeconfig(cpContext component.WorkloadContext, secret *corev1.Secret) error {
	secret.Data = map[string][]byte{"kubeconfig": []byte(render(cpContext.HCP.Name, 3))}
	return nil
}
