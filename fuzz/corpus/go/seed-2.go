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
