package nodepool

import capz "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"

//invariant:ignore capi-boundary/provider-read -- migration shim, removed in OCPBUGS-1234
var a = &capz.AzureMachine{}

//invariant:ignore capi-boundary -- a family works too
var b = &capz.AzureMachine{}

//invariant:ignore capi-boundary/provider-read // want "suppression/missing-reason"
var c = &capz.AzureMachine{}

//invariant:ignore adapt-purity -- names the wrong rule // want "suppression/unused"
var d = &capz.AzureMachine{} // want "capi-boundary/provider-read"

//invariant:ignore capi-boundary -- nothing below to silence // want "suppression/unused"
var e = 1
