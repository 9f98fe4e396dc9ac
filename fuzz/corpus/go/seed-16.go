package ingress

import (
	component "github.com/openshift/hypershift/support/controlplane-component"
)

type ingressOperator struct{}

func NewComponent() component.ControlPlaneComponent {
	return component.NewDeploymentComponent("ingress-operator", &ingressOperator{}).
		WithAdaptFunction(adaptDeployment).
		WithManifestAdapter("config.yaml", component.WithAdaptFunction(adaptConfigMap)).
		Build()
}
