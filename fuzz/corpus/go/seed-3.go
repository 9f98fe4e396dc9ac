package widget

import (
	component "github.com/openshift/hypershift/support/controlplane-component"
	appsv1 "k8s.io/api/apps/v1"
)

// A pure adapt function: reads only the context's HostedControlPlane and mutates the object.
func adaptStatefulSet(cpContext component.WorkloadContext, sts *appsv1.StatefulSet) error {
	replicas := int32(1)
	if cpContext.HCP.Spec.ControllerAvailabilityPolicy == "HighlyAvailable" {
		replicas = 3
	}
	sts.Spec.Replicas = &replicas
	local := map[string]string{}
	local["a"] = "b"
	return nil
}

// adaptHelperName matches the name pattern but not the signature: not an adapt function.
func adaptHelperName(s string) string { return s }
