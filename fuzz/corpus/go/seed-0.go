package widget

import (
	"time"

	component "github.com/openshift/hypershift/support/controlplane-component"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

type widget struct{}

func NewComponent() component.ControlPlaneComponent {
	w := &widget{}
	return component.NewDeploymentComponent("widget", w).
		WithAdaptFunction(adaptDeployment).
		WithManifestAdapter("config.yaml", component.WithAdaptFunction(configureConfigMap)).
		WithManifestAdapter("route.yaml", component.WithAdaptFunction(w.adaptRoute)).
		WithManifestAdapter("service.yaml", component.WithAdaptFunction(func(cpContext component.WorkloadContext, svc *corev1.Service) error {
			svc.Annotations = map[string]string{"rotated": time.Now().String()} // want "adapt-purity/clock"
			return nil
		})).
		WithManifestAdapter("pdb.yaml", component.WithAdaptFunction(func(cpContext component.WorkloadContext, d *appsv1.Deployment) error {
			d.Spec.Replicas = replicasFor(cpContext)
			return nil
		})).
		Build()
}
