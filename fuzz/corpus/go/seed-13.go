package nodepool

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Tests fabricate conditions with literal reasons: the rule's exclude list skips test files.
var fixture = metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllGood"}
