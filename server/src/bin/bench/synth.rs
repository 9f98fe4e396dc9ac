//! A deterministic synthetic workspace shaped like HyperShift: Go packages under the same
//! directories (NodePool controller and its platform files, control-plane-operator v2 components
//! with adapt functions, the API's condition constants, support libraries, e2e tests), one
//! ~3,400-line controller, and YAML of the same kinds (large CRDs, kustomizations, manifests,
//! HostedCluster/NodePool examples, CI workflows). Violations are sprinkled in so every rule
//! family has work to do. The same `files` always gives byte-identical output.

use std::fmt::Write as _;
use std::path::Path;

/// splitmix64: small, deterministic, good enough to vary shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "cluster",
    "pool",
    "node",
    "machine",
    "release",
    "image",
    "config",
    "secret",
    "token",
    "proxy",
    "ingress",
    "network",
    "storage",
    "etcd",
    "router",
    "registry",
    "version",
    "status",
    "infra",
    "zone",
    "subnet",
    "endpoint",
    "certificate",
    "kubelet",
    "ignition",
    "tuning",
    "autoscaler",
    "replica",
    "template",
    "owner",
];
const PLATFORMS: &[(&str, &str, &str)] = &[
    ("aws", "capiaws", "sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"),
    (
        "azure",
        "capiazure",
        "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1",
    ),
    (
        "kubevirt",
        "capikubevirt",
        "sigs.k8s.io/cluster-api-provider-kubevirt/api/v1alpha1",
    ),
    (
        "openstack",
        "capiopenstack",
        "sigs.k8s.io/cluster-api-provider-openstack/api/v1beta1",
    ),
    (
        "powervs",
        "capipowervs",
        "sigs.k8s.io/cluster-api-provider-ibmcloud/api/v1beta2",
    ),
    ("gcp", "capigcp", "sigs.k8s.io/cluster-api-provider-gcp/api/v1beta1"),
    (
        "agent",
        "agentv1",
        "github.com/openshift/cluster-api-provider-agent/api/v1beta1",
    ),
];
const MACHINE_KINDS: &[&str] = &[
    "AWSMachine",
    "AzureMachine",
    "KubevirtMachine",
    "OpenStackMachine",
    "IBMPowerVSMachine",
    "GCPMachine",
    "AgentMachine",
];

fn camel(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

struct Gen {
    rng: Rng,
    files: Vec<(String, String)>,
}

impl Gen {
    fn ident(&mut self) -> String {
        let a = self.rng.pick(WORDS);
        let b = self.rng.pick(WORDS);
        format!("{a}{}", camel(b))
    }

    fn add(&mut self, path: String, text: String) {
        self.files.push((path, text));
    }

    // ------------------------------------------------------------------------------------
    // Go
    // ------------------------------------------------------------------------------------

    fn go_header(&mut self, package: &str, extra_imports: &[(&str, &str)]) -> String {
        let mut s = String::from(
            "/*\nCopyright 2024 The HyperShift Authors.\n\nLicensed under the Apache License, Version 2.0.\n*/\n\n",
        );
        let _ = writeln!(s, "package {package}\n\nimport (");
        for p in ["context", "fmt", "strings", "time"] {
            let _ = writeln!(s, "\t\"{p}\"");
        }
        s.push('\n');
        let _ = writeln!(
            s,
            "\thyperv1 \"github.com/openshift/hypershift/api/hypershift/v1beta1\""
        );
        let _ = writeln!(s, "\tappsv1 \"k8s.io/api/apps/v1\"");
        let _ = writeln!(s, "\tcorev1 \"k8s.io/api/core/v1\"");
        let _ = writeln!(s, "\tmetav1 \"k8s.io/apimachinery/pkg/apis/meta/v1\"");
        let _ = writeln!(s, "\t\"k8s.io/apimachinery/pkg/api/meta\"");
        let _ = writeln!(s, "\tctrl \"sigs.k8s.io/controller-runtime\"");
        let _ = writeln!(s, "\t\"sigs.k8s.io/controller-runtime/pkg/client\"");
        for (alias, path) in extra_imports {
            let _ = writeln!(s, "\t{alias} \"{path}\"");
        }
        s.push_str(")\n\n");
        s.push_str(
            "var _ = strings.TrimSpace\nvar _ = time.Second\nvar _ = ctrl.Log\nvar _ = meta.SetStatusCondition\n\n",
        );
        s
    }

    /// A struct type with tagged fields.
    fn go_struct(&mut self, out: &mut String) -> String {
        let name = camel(&self.ident());
        let _ = writeln!(out, "// {name} holds the settings of one {}.", self.rng.pick(WORDS));
        let _ = writeln!(out, "type {name} struct {{");
        for _ in 0..self.rng.range(3, 12) {
            let f = self.ident();
            let ty = self.rng.pick(&[
                "string",
                "int32",
                "*bool",
                "[]string",
                "map[string]string",
                "metav1.Duration",
                "corev1.ResourceList",
            ]);
            let _ = writeln!(
                out,
                "\t// {} is the {f} of the object.\n\t{} {ty} `json:\"{f},omitempty\"`",
                camel(&f),
                camel(&f)
            );
        }
        out.push_str("}\n\n");
        name
    }

    /// A reconcile-style function: client reads, error wrapping, a condition.
    fn go_reconcile(&mut self, out: &mut String, recv: Option<&str>, literal_reason: bool) {
        let name = format!("reconcile{}", camel(&self.ident()));
        let obj = self.ident();
        match recv {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "func (r *{r}) {name}(ctx context.Context, hcp *hyperv1.HostedControlPlane) error {{"
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "func {name}(ctx context.Context, c client.Client, hcp *hyperv1.HostedControlPlane) error {{"
                );
            }
        }
        let getter = if recv.is_some() { "r.Client" } else { "c" };
        let _ = writeln!(out, "\t{obj} := &corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{{Namespace: hcp.Namespace, Name: \"{obj}\"}}}}");
        let _ = writeln!(
            out,
            "\tif err := {getter}.Get(ctx, client.ObjectKeyFromObject({obj}), {obj}); err != nil {{\n\t\treturn fmt.Errorf(\"failed to get {obj}: %w\", err)\n\t}}"
        );
        for _ in 0..self.rng.range(2, 6) {
            let k = self.ident();
            let v = self.ident();
            let _ = writeln!(
                out,
                "\tif value, ok := {obj}.Data[\"{k}\"]; ok && value != \"\" {{\n\t\thcp.Annotations[\"hypershift.openshift.io/{k}\"] = strings.TrimSpace(value)\n\t}} else {{\n\t\t{v} := fmt.Sprintf(\"%s-%s\", hcp.Name, \"{k}\")\n\t\thcp.Annotations[\"hypershift.openshift.io/{k}\"] = {v}\n\t}}"
            );
        }
        let reason = if literal_reason {
            format!("\"{}_failed\"", self.rng.pick(WORDS))
        } else {
            "hyperv1.AsExpectedReason".to_string()
        };
        let _ = writeln!(
            out,
            "\tmeta.SetStatusCondition(&hcp.Status.Conditions, metav1.Condition{{\n\t\tType:               string(hyperv1.HostedControlPlaneAvailable),\n\t\tStatus:             metav1.ConditionTrue,\n\t\tReason:             {reason},\n\t\tMessage:            \"{} of {} components are available\",\n\t\tObservedGeneration: hcp.Generation,\n\t}})",
            self.rng.range(1, 9),
            self.rng.range(10, 20)
        );
        let _ = writeln!(out, "\tif _, err := ctrl.CreateOrUpdate(ctx, {getter}, {obj}, func() error {{\n\t\t{obj}.Data = map[string]string{{\"generated\": \"true\"}}\n\t\treturn nil\n\t}}); err != nil {{\n\t\treturn err\n\t}}");
        out.push_str("\treturn nil\n}\n\n");
    }

    /// A builder returning a Deployment: deep composite literals, like the manifests package.
    fn go_builder(&mut self, out: &mut String) {
        let name = self.ident();
        let _ = writeln!(
            out,
            "func build{}Deployment(hcp *hyperv1.HostedControlPlane, image string) *appsv1.Deployment {{",
            camel(&name)
        );
        let _ = writeln!(out, "\treplicas := int32({})", self.rng.range(1, 3));
        let _ = writeln!(out, "\treturn &appsv1.Deployment{{\n\t\tObjectMeta: metav1.ObjectMeta{{\n\t\t\tName:      \"{name}\",\n\t\t\tNamespace: hcp.Namespace,\n\t\t\tLabels:    map[string]string{{\"app\": \"{name}\"}},\n\t\t}},\n\t\tSpec: appsv1.DeploymentSpec{{\n\t\t\tReplicas: &replicas,\n\t\t\tTemplate: corev1.PodTemplateSpec{{\n\t\t\t\tSpec: corev1.PodSpec{{\n\t\t\t\t\tContainers: []corev1.Container{{");
        for _ in 0..self.rng.range(1, 3) {
            let c = self.ident();
            let _ = writeln!(out, "\t\t\t\t\t\t{{\n\t\t\t\t\t\t\tName:  \"{c}\",\n\t\t\t\t\t\t\tImage: image,\n\t\t\t\t\t\t\tArgs:  []string{{\"--{c}\", \"--v=2\"}},\n\t\t\t\t\t\t\tEnv: []corev1.EnvVar{{");
            for _ in 0..self.rng.range(1, 4) {
                let e = self.ident().to_uppercase();
                let _ = writeln!(out, "\t\t\t\t\t\t\t\t{{Name: \"{e}\", Value: hcp.Spec.InfraID}},");
            }
            out.push_str("\t\t\t\t\t\t\t},\n\t\t\t\t\t\t},\n");
        }
        out.push_str("\t\t\t\t\t},\n\t\t\t\t},\n\t\t\t},\n\t\t},\n\t}\n}\n\n");
    }

    /// A switch over platforms, as HyperShift does everywhere.
    fn go_platform_switch(&mut self, out: &mut String) {
        let name = self.ident();
        let _ = writeln!(out, "func {name}ForPlatform(hcp *hyperv1.HostedControlPlane) (string, error) {{\n\tswitch hcp.Spec.Platform.Type {{");
        for p in [
            "AWSPlatform",
            "AzurePlatform",
            "KubevirtPlatform",
            "OpenStackPlatform",
            "PowerVSPlatform",
        ] {
            let v = self.ident();
            let _ = writeln!(out, "\tcase hyperv1.{p}:\n\t\treturn \"{v}\", nil");
        }
        let _ = writeln!(
            out,
            "\tdefault:\n\t\treturn \"\", fmt.Errorf(\"unsupported platform %s\", hcp.Spec.Platform.Type)\n\t}}\n}}\n"
        );
    }

    fn go_helpers(&mut self, out: &mut String, n: usize) {
        for _ in 0..n {
            match self.rng.below(4) {
                0 => {
                    self.go_struct(out);
                }
                1 => self.go_builder(out),
                2 => self.go_platform_switch(out),
                _ => {
                    let literal = self.rng.chance(8);
                    self.go_reconcile(out, None, literal)
                }
            }
        }
    }

    /// A generic Go file in `dir` of roughly `funcs` top-level declarations.
    fn go_file(&mut self, dir: &str, name: &str, funcs: usize) {
        let package = dir.rsplit('/').next().unwrap_or("x").replace('-', "");
        let mut s = self.go_header(&package, &[]);
        self.go_helpers(&mut s, funcs);
        self.add(format!("{dir}/{name}"), s);
    }

    fn go_test_file(&mut self, dir: &str, name: &str, cases: usize) {
        let package = dir.rsplit('/').next().unwrap_or("x").replace('-', "");
        let mut s = format!("package {package}\n\nimport (\n\t\"testing\"\n\n\t. \"github.com/onsi/gomega\"\n\tcorev1 \"k8s.io/api/core/v1\"\n\tmetav1 \"k8s.io/apimachinery/pkg/apis/meta/v1\"\n)\n\n");
        let _ = writeln!(s, "func Test{}(t *testing.T) {{\n\ttestCases := []struct {{\n\t\tname     string\n\t\tinput    *corev1.ConfigMap\n\t\texpected string\n\t}}{{", camel(&self.ident()));
        for _ in 0..cases {
            let n = self.ident();
            let _ = writeln!(s, "\t\t{{\n\t\t\tname: \"When {n} is set it should be used\",\n\t\t\tinput: &corev1.ConfigMap{{\n\t\t\t\tObjectMeta: metav1.ObjectMeta{{Name: \"{n}\", Namespace: \"test\"}},\n\t\t\t\tData:       map[string]string{{\"{n}\": \"value\"}},\n\t\t\t}},\n\t\t\texpected: \"value\",\n\t\t}},");
        }
        s.push_str("\t}\n\tfor _, tc := range testCases {\n\t\tt.Run(tc.name, func(t *testing.T) {\n\t\t\tg := NewWithT(t)\n\t\t\tg.Expect(tc.input.Data[tc.input.Name]).To(Equal(tc.expected))\n\t\t})\n\t}\n}\n");
        self.add(format!("{dir}/{name}"), s);
    }

    /// A control-plane-operator v2 component: an adapt function per asset, some impure.
    fn cpo_component(&mut self, comp: &str) {
        let dir = format!("control-plane-operator/controllers/hostedcontrolplane/v2/{comp}");
        let package = comp.replace('-', "");
        let mut s = self.go_header(
            &package,
            &[
                (
                    "component",
                    "github.com/openshift/hypershift/support/controlplane-component",
                ),
                ("rand", "math/rand"),
                ("osenv", "os"),
            ],
        );
        s.push_str("var _ = rand.Intn\nvar _ = osenv.Getenv\n\n");
        let _ = writeln!(s, "const ComponentName = \"{comp}\"\n\nvar _ component.ComponentOptions = &{package}{{}}\n\ntype {package} struct{{}}\n");
        let _ = writeln!(s, "func NewComponent() component.ControlPlaneComponent {{\n\treturn component.NewDeploymentComponent(ComponentName, &{package}{{}}).\n\t\tWithAdaptFunction(adaptDeployment).\n\t\tWithManifestAdapter(\"config.yaml\", component.WithAdaptFunction(adaptConfigMap)).\n\t\tBuild()\n}}\n");
        // adaptDeployment: pure most of the time.
        let _ = writeln!(
            s,
            "func adaptDeployment(cpContext component.WorkloadContext, deployment *appsv1.Deployment) error {{"
        );
        for _ in 0..self.rng.range(3, 10) {
            let k = self.ident();
            let _ = writeln!(s, "\tif cpContext.HCP.Annotations[\"{k}\"] != \"\" {{\n\t\tdeployment.Spec.Template.Annotations[\"{k}\"] = cpContext.HCP.Annotations[\"{k}\"]\n\t}}");
        }
        match self.rng.below(6) {
            0 => s.push_str("\tdeployment.Spec.Template.Annotations[\"restarted\"] = time.Now().Format(time.RFC3339)\n"),
            1 => s.push_str("\tcm := &corev1.ConfigMap{}\n\tif err := cpContext.Client.Get(cpContext, client.ObjectKeyFromObject(cm), cm); err != nil {\n\t\treturn err\n\t}\n"),
            2 => s.push_str("\tdeployment.Spec.Template.Annotations[\"proxy\"] = osenv.Getenv(\"HTTP_PROXY\")\n"),
            3 => s.push_str("\tdeployment.Spec.Template.Annotations[\"nonce\"] = fmt.Sprint(rand.Intn(100))\n"),
            _ => {}
        }
        s.push_str("\treturn nil\n}\n\n");
        let _ = writeln!(s, "func adaptConfigMap(cpContext component.WorkloadContext, cm *corev1.ConfigMap) error {{\n\tcm.Data = map[string]string{{\"domain\": cpContext.HCP.Spec.DNS.BaseDomain}}\n\treturn nil\n}}\n");
        let n = self.rng.range(2, 8);
        self.go_helpers(&mut s, n);
        self.add(format!("{dir}/component.go"), s);
        let n = self.rng.range(3, 12);
        self.go_file(&dir, "deployment.go", n);
        if self.rng.chance(60) {
            let n = self.rng.range(2, 8);
            self.go_file(&dir, "config.go", n);
        }
        if self.rng.chance(70) {
            let n = self.rng.range(3, 10);
            self.go_test_file(&dir, "component_test.go", n);
        }
        // The component's YAML assets.
        let assets = format!("control-plane-operator/controllers/hostedcontrolplane/v2/assets/{comp}");
        let d = self.deployment_yaml(comp);
        self.add(format!("{assets}/deployment.yaml"), d);
        if self.rng.chance(50) {
            let r = self.role_yaml(comp);
            self.add(format!("{assets}/role.yaml"), r);
        }
    }

    /// A NodePool platform file: provider Machine templates (allowed there).
    fn nodepool_platform(&mut self, platform: &str, alias: &str, import: &str, kind: &str) {
        let dir = "hypershift-operator/controllers/nodepool";
        let mut s = self.go_header("nodepool", &[(alias, import)]);
        let _ = writeln!(s, "func {platform}MachineTemplate(nodePool *hyperv1.NodePool) *{alias}.{kind}Template {{\n\treturn &{alias}.{kind}Template{{\n\t\tObjectMeta: metav1.ObjectMeta{{Name: nodePool.Name, Namespace: nodePool.Namespace}},\n\t}}\n}}\n");
        let _ = writeln!(s, "func (r *NodePoolReconciler) {platform}Machines(ctx context.Context, nodePool *hyperv1.NodePool) error {{\n\tmachine := &{alias}.{kind}{{}}\n\treturn r.Get(ctx, client.ObjectKey{{Namespace: nodePool.Namespace, Name: nodePool.Name}}, machine)\n}}\n");
        let n = self.rng.range(8, 25);
        self.go_helpers(&mut s, n);
        self.add(format!("{dir}/{platform}.go"), s);
    }

    /// A generic NodePool file; some read provider Machines (the CAPI boundary violation).
    fn nodepool_generic(&mut self, i: usize) {
        let dir = "hypershift-operator/controllers/nodepool";
        let (p, alias, import) = PLATFORMS[i % PLATFORMS.len()];
        let violating = self.rng.chance(25);
        let imports: Vec<(&str, &str)> = if violating {
            vec![(alias, import), ("capiv1", "sigs.k8s.io/cluster-api/api/core/v1beta1")]
        } else {
            vec![("capiv1", "sigs.k8s.io/cluster-api/api/core/v1beta1")]
        };
        let mut s = self.go_header("nodepool", &imports);
        s.push_str("type NodePoolReconciler struct {\n\tclient.Client\n}\n\nvar _ capiv1.Machine\n\n");
        if violating {
            let kind = MACHINE_KINDS[i % MACHINE_KINDS.len()];
            let _ = writeln!(s, "func (r *NodePoolReconciler) {p}Capacity{i}(ctx context.Context, machines []capiv1.Machine) error {{\n\tfor _, machine := range machines {{\n\t\tproviderMachine := &{alias}.{kind}{{}}\n\t\tif err := r.Get(ctx, client.ObjectKey{{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}}, providerMachine); err != nil {{\n\t\t\treturn err\n\t\t}}\n\t}}\n\treturn nil\n}}\n");
        }
        let n = self.rng.range(6, 20);
        for _ in 0..n {
            let literal = self.rng.chance(10);
            self.go_reconcile(&mut s, Some("NodePoolReconciler"), literal);
        }
        let n = self.rng.range(2, 6);
        self.go_helpers(&mut s, n);
        self.add(format!("{dir}/nodepool_{i}.go"), s);
    }

    fn api_conditions(&mut self, i: usize) {
        let mut s = String::from("package v1beta1\n\n");
        s.push_str("type ConditionType string\ntype ConditionReason string\n\nconst (\n");
        for j in 0..self.rng.range(15, 40) {
            let w = camel(&self.ident());
            let _ = writeln!(s, "\t// {w}{j}ConditionType says whether {w} is ready.\n\t{w}{j}{i}ConditionType ConditionType = \"{w}{j}{i}\"");
            let value = if self.rng.chance(4) {
                format!("{}_ready", w.to_lowercase())
            } else {
                format!("{w}{j}Ready")
            };
            let _ = writeln!(s, "\t{w}{j}{i}Reason = \"{value}\"");
        }
        s.push_str(")\n");
        self.add(format!("api/hypershift/v1beta1/zz_{i}_conditions.go"), s);
    }

    fn api_types(&mut self, i: usize) {
        let mut s = String::from("package v1beta1\n\nimport (\n\tcorev1 \"k8s.io/api/core/v1\"\n\tmetav1 \"k8s.io/apimachinery/pkg/apis/meta/v1\"\n)\n\nvar _ corev1.ResourceList\n\n");
        for _ in 0..self.rng.range(5, 20) {
            self.go_struct(&mut s);
        }
        self.add(format!("api/hypershift/v1beta1/types_{i}.go"), s);
    }

    /// The largest controller: ~3,400 lines, like hostedcontrolplane_controller.go.
    fn big_controller(&mut self, lines: usize) {
        let dir = "control-plane-operator/controllers/hostedcontrolplane";
        let mut s = self.go_header("hostedcontrolplane", &[]);
        s.push_str("// HostedControlPlaneReconciler reconciles a HostedControlPlane.\ntype HostedControlPlaneReconciler struct {\n\tclient.Client\n\tManagementClusterCapabilities interface{}\n}\n\n");
        while s.lines().count() < lines {
            match self.rng.below(5) {
                0 => self.go_builder(&mut s),
                1 => self.go_platform_switch(&mut s),
                _ => {
                    let literal = self.rng.chance(5);
                    self.go_reconcile(&mut s, Some("HostedControlPlaneReconciler"), literal)
                }
            }
        }
        self.add(format!("{dir}/hostedcontrolplane_controller.go"), s);
    }

    // ------------------------------------------------------------------------------------
    // YAML
    // ------------------------------------------------------------------------------------

    fn schema(&mut self, out: &mut String, indent: usize, depth: usize) {
        let pad = " ".repeat(indent);
        let _ = writeln!(out, "{pad}type: object\n{pad}properties:");
        for _ in 0..self.rng.range(3, 8) {
            let f = self.ident();
            let _ = writeln!(out, "{pad}  {f}:");
            let _ = writeln!(
                out,
                "{pad}    description: |-\n{pad}      {f} is the {} of the {}. When omitted, the platform\n{pad}      chooses a reasonable default, which is subject to change over time.",
                self.rng.pick(WORDS),
                self.rng.pick(WORDS)
            );
            if depth > 0 && self.rng.chance(45) {
                self.schema(out, indent + 4, depth - 1);
            } else {
                let t = self.rng.pick(&["string", "integer", "boolean"]);
                let _ = writeln!(out, "{pad}    type: {t}");
                if t == "string" && self.rng.chance(30) {
                    let _ = writeln!(out, "{pad}    maxLength: 255\n{pad}    x-kubernetes-validations:\n{pad}    - message: {f} is immutable\n{pad}      rule: self == oldSelf");
                }
            }
        }
    }

    fn crd(&mut self, name: &str, size_hint: usize) -> String {
        let mut s = format!("---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    controller-gen.kubebuilder.io/version: v0.16.4\n  name: {name}.hypershift.openshift.io\nspec:\n  group: hypershift.openshift.io\n  names:\n    kind: {}\n    plural: {name}\n  scope: Namespaced\n  versions:\n", camel(name));
        let mut v = 0;
        while s.len() < size_hint {
            let _ = writeln!(
                s,
                "  - name: v1beta{v}\n    served: true\n    storage: {}\n    schema:\n      openAPIV3Schema:",
                v == 0
            );
            self.schema(&mut s, 8, 6);
            v += 1;
        }
        s
    }

    fn deployment_yaml(&mut self, name: &str) -> String {
        let mut s = format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n");
        for _ in 0..self.rng.range(1, 3) {
            let c = self.ident();
            let _ = writeln!(s, "      - name: {c}\n        image: {c}\n        args:\n        - --v=2\n        - --{c}=true\n        env:\n        - name: {}\n          value: \"1\"\n        resources:\n          requests:\n            cpu: 10m\n            memory: 50Mi\n        volumeMounts:\n        - mountPath: /etc/{c}\n          name: {c}", c.to_uppercase());
        }
        s
    }

    fn role_yaml(&mut self, name: &str) -> String {
        let mut s =
            format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\nrules:\n");
        for _ in 0..self.rng.range(2, 8) {
            let r = self.ident().to_lowercase();
            let _ = writeln!(
                s,
                "- apiGroups:\n  - \"\"\n  resources:\n  - {r}s\n  verbs:\n  - get\n  - list\n  - watch"
            );
        }
        s
    }

    fn hosted_cluster_yaml(&mut self, i: usize) -> String {
        let minor = 14 + i % 5;
        format!("apiVersion: hypershift.openshift.io/v1beta1\nkind: HostedCluster\nmetadata:\n  name: example-{i}\n  namespace: clusters\nspec:\n  release:\n    image: quay.io/openshift-release-dev/ocp-release:4.{minor}.0-x86_64\n  platform:\n    type: AWS\n  networking:\n    clusterNetwork:\n    - cidr: 10.132.0.0/14\n---\napiVersion: hypershift.openshift.io/v1beta1\nkind: NodePool\nmetadata:\n  name: example-{i}-workers\n  namespace: clusters\nspec:\n  clusterName: example-{i}\n  replicas: {}\n  management:\n    upgradeType: Replace\n    replace:\n      strategy: RollingUpdate\n      rollingUpdate:\n        maxSurge: {}\n        maxUnavailable: 0\n  release:\n    image: quay.io/openshift-release-dev/ocp-release:4.{}.0-x86_64\n", 2 + i % 3, if i.is_multiple_of(7) { 0 } else { 1 }, minor + if i.is_multiple_of(9) { 2 } else { 0 })
    }

    fn kustomization(&mut self, dir: &str, resources: &[String], deprecated: bool) -> String {
        let mut s =
            String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: hypershift\n");
        if deprecated {
            s.push_str("commonLabels:\n  app.kubernetes.io/part-of: hypershift\n");
        }
        s.push_str("resources:\n");
        for r in resources {
            let _ = writeln!(s, "- {r}");
        }
        if deprecated && self.rng.chance(50) {
            s.push_str("patchesStrategicMerge:\n- patch.yaml\n");
            let p = self.deployment_yaml("patched");
            self.add(format!("{dir}/patch.yaml"), p);
        }
        s
    }

    fn workflow(&mut self, i: usize) -> String {
        let mut s = format!("name: ci-{i}\non:\n  pull_request:\n    branches: [main]\njobs:\n");
        for _ in 0..self.rng.range(1, 4) {
            let j = self.ident().to_lowercase();
            let _ = writeln!(s, "  {j}:\n    runs-on: ubuntu-latest\n    steps:\n    - uses: actions/checkout@v4\n    - uses: actions/setup-go@v5\n      with:\n        go-version-file: go.mod\n    - run: make {j}");
        }
        s
    }
}

/// The synthetic twin of the real tree's HostedCluster controller: a large controller with a
/// provider read that has the annotation-bridge fix (the bench types into it).
pub const FIXABLE_FILE: &str = "hypershift-operator/controllers/hostedcluster/hostedcluster_fixable.go";

/// [`FIXABLE_FILE`]'s text: the bridgeable read, then `funcs` plain functions (~10 lines each).
fn fixable_controller(funcs: usize) -> String {
    let mut text = String::from(
        "package hostedcluster\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\n\tcapiaws \"sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2\"\n\tcapiv1 \"sigs.k8s.io/cluster-api/api/core/v1beta1\"\n\t\"sigs.k8s.io/controller-runtime/pkg/client\"\n)\n\n",
    );
    text.push_str("func machineStates(ctx context.Context, c client.Client, machines []capiv1.Machine) []string {\n\tvar out []string\n\tfor _, machine := range machines {\n\t\tawsMachine := &capiaws.AWSMachine{}\n\t\tkey := client.ObjectKey{Namespace: machine.Namespace, Name: machine.Spec.InfrastructureRef.Name}\n\t\tif err := c.Get(ctx, key, awsMachine); err != nil {\n\t\t\tcontinue\n\t\t}\n\t\tif awsMachine.Status.FailureReason != nil {\n\t\t\tout = append(out, fmt.Sprintf(\"%s: %s\", machine.Name, *awsMachine.Status.FailureReason))\n\t\t}\n\t}\n\treturn out\n}\n");
    for i in 0..funcs {
        text.push_str(&format!(
            "\n// reconcileStep{i} is one step of the reconcile loop.\nfunc reconcileStep{i}(ctx context.Context, c client.Client, name string) error {{\n\tkey := client.ObjectKey{{Name: name}}\n\tmachine := &capiv1.Machine{{}}\n\tif err := c.Get(ctx, key, machine); err != nil {{\n\t\treturn fmt.Errorf(\"step {i}: %w\", err)\n\t}}\n\treturn nil\n}}\n"
        ));
    }
    text
}

/// Generates the workspace: `files` is the approximate number of Go + YAML files (2,000 gives
/// the HyperShift-sized tree), `big_lines` the length of the largest controller.
pub fn generate(root: &Path, files: usize, big_lines: usize) -> std::io::Result<usize> {
    let mut g = Gen {
        rng: Rng(0x1A7E_57B3_2026),
        files: Vec::new(),
    };
    let scale = |n: usize| (n * files).div_ceil(2000).max(1);
    g.add(
        "go.mod".into(),
        "module github.com/openshift/hypershift\n\ngo 1.24\n".into(),
    );
    g.add(
        ".invariant.yaml".into(),
        "# Synthetic benchmark workspace (generated by the invariant-lsp bench).\nmodels: []\n".into(),
    );
    g.big_controller(big_lines);
    g.add(FIXABLE_FILE.into(), fixable_controller(big_lines / 10));
    for i in 0..scale(12) {
        g.api_conditions(i);
    }
    for i in 0..scale(40) {
        g.api_types(i);
    }
    for &(p, alias, import) in PLATFORMS {
        let kind = MACHINE_KINDS[PLATFORMS.iter().position(|x| x.0 == p).unwrap_or(0)];
        g.nodepool_platform(p, alias, import, kind);
    }
    for i in 0..scale(40) {
        g.nodepool_generic(i);
    }
    let components: Vec<String> = (0..scale(70)).map(|i| format!("{}-{i}", g.rng.pick(WORDS))).collect();
    for comp in &components {
        g.cpo_component(comp);
    }
    // Other Go packages: operators, support libraries, CLIs, e2e tests.
    let trees = [
        "hypershift-operator/controllers/hostedcluster",
        "hypershift-operator/controllers/hostedcluster/internal/platform/aws",
        "control-plane-operator/hostedclusterconfigoperator/controllers/resources",
        "control-plane-pki-operator/certificates",
        "support/util",
        "support/config",
        "support/releaseinfo",
        "cmd/cluster/core",
        "cmd/nodepool/core",
        "product-cli/cmd",
        "karpenter-operator/controllers",
        "ignition-server/controllers",
        "test/e2e/util",
        "test/integration",
    ];
    let mut i = 0;
    while g.files.iter().filter(|(p, _)| p.ends_with(".go")).count() < scale(1400) {
        let base = trees[i % trees.len()];
        let dir = format!("{base}/{}{}", g.rng.pick(WORDS), i / trees.len() % 40);
        let funcs = match g.rng.below(10) {
            0 => g.rng.range(25, 60),
            1..=3 => g.rng.range(10, 25),
            _ => g.rng.range(2, 10),
        };
        if base.starts_with("test/") || g.rng.chance(25) {
            let n = funcs * 2;
            let name = format!("{}{i}_test.go", g.rng.pick(WORDS));
            g.go_test_file(&dir, &name, n);
        } else {
            let name = format!("{}{i}.go", g.rng.pick(WORDS));
            g.go_file(&dir, &name, funcs);
        }
        i += 1;
    }
    // YAML: CRDs (the bulk of the bytes), manifests, kustomizations, examples, workflows.
    for i in 0..scale(45) {
        let name = format!("{}s{i}", g.ident().to_lowercase());
        let size = if i % 5 == 0 {
            400_000
        } else {
            60_000 + g.rng.below(120_000)
        };
        let crd = g.crd(&name, size);
        g.add(
            format!("cmd/install/assets/crds/hypershift-operator/zz_generated.crd-manifests/{name}.yaml"),
            crd,
        );
    }
    for i in 0..scale(12) {
        let dir = format!("deploy/{}-{i}", g.rng.pick(WORDS));
        let mut resources = Vec::new();
        for j in 0..g.rng.range(2, 6) {
            let name = format!("{}-{j}", g.rng.pick(WORDS));
            let d = g.deployment_yaml(&name);
            g.add(format!("{dir}/{name}.yaml"), d);
            resources.push(format!("{name}.yaml"));
        }
        if i % 3 == 0 {
            let h = g.hosted_cluster_yaml(i);
            g.add(format!("{dir}/hostedcluster.yaml"), h);
            resources.push("hostedcluster.yaml".into());
        }
        if i % 4 == 1 {
            resources.push("missing.yaml".into());
        }
        let deprecated = i % 3 == 1;
        let k = g.kustomization(&dir, &resources, deprecated);
        g.add(format!("{dir}/kustomization.yaml"), k);
    }
    for i in 0..scale(25) {
        let h = g.hosted_cluster_yaml(i);
        g.add(format!("examples/hostedcluster-{i}.yaml"), h);
    }
    for i in 0..scale(35) {
        let w = g.workflow(i);
        g.add(format!(".github/workflows/ci-{i}.yaml"), w);
    }
    let mut i = 0;
    while g.files.iter().filter(|(p, _)| p.ends_with(".yaml")).count() < scale(600) {
        let name = format!("{}-{i}", g.rng.pick(WORDS));
        let (dir, text) = if i % 2 == 0 {
            (
                "control-plane-operator/controllers/hostedcontrolplane/v2/assets/extra",
                g.deployment_yaml(&name),
            )
        } else {
            ("support/rbac/assets", g.role_yaml(&name))
        };
        g.add(format!("{dir}/{name}.yaml"), text);
        i += 1;
    }
    // Test data and vendor, which `check` skips: present, so the skipping is exercised.
    g.add("vendor/example.com/lib/lib.go".into(), "package lib\n".into());
    g.add("support/testdata/broken.yaml".into(), "a: [\n".into());

    let count = g.files.len();
    for (rel, text) in &g.files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(count)
}
