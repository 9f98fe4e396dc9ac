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

//~~
package widget

import (
	"crypto/rand"
	"fmt"
	"os"
	"time"

	component "github.com/openshift/hypershift/support/controlplane-component"
)

func stampAnnotations(proxy string) map[string]string {
	return map[string]string{"proxy": proxy, "stamp": stamp()}
}

func stamp() string {
	return time.Now().UTC().Format(time.RFC3339)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// render recurses: the purity search must terminate, and this chain is pure.
func render(name string, depth int) string {
	if depth == 0 {
		return name
	}
	return render(name+".", depth-1)
}

// ping and pong call each other: a pure cycle.
func ping(n int) int {
	if n <= 0 {
		return 0
	}
	return pong(n - 1)
}

func pong(n int) int { return ping(n) }

func replicasFor(cpContext component.WorkloadContext) *int32 {
	n := int32(ping(3) + 1)
	if cpContext.HCP.Spec.ControllerAvailabilityPolicy == "HighlyAvailable" {
		n = 3
	}
	return &n
}

// notAnAdapt is impure but nobody registers it and its name does not match: no finding.
func notAnAdapt() string {
	return os.Getenv("HOME") + time.Now().String()
}
