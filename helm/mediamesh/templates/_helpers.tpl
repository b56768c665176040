{{/* Names: the release's full name, and one per context (`<fullname>-vod-purchase`). */}}
{{- define "mediamesh.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mediamesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: mesh (contexts), gateway or nats. */}}
{{- define "mediamesh.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mediamesh.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
The enabled contexts as a list of dicts {app, name, id, resource, settings}, settings being
contextDefaults overridden by the context's own values. Read with
`include "mediamesh.contexts" . | fromYaml` -> {contexts: [...]}.
*/}}
{{- define "mediamesh.contexts" -}}
{{- $full := include "mediamesh.fullname" . -}}
contexts:
{{- range $app, $appValues := .Values.apps }}
{{- if $appValues.enabled }}
{{- range $name, $own := $appValues.contexts }}
{{- $own = $own | default dict }}
{{- $settings := mergeOverwrite (deepCopy $.Values.contextDefaults) (deepCopy $own) }}
{{- /* mergeOverwrite skips false and 0 (empty values): set those explicitly. */}}
{{- range $key := list "enabled" "replicas" "maxUnavailable" }}
{{- if hasKey $own $key }}{{ $_ := set $settings $key (index $own $key) }}{{ end }}
{{- end }}
{{- if and (hasKey $own "autoscaling") (hasKey ($own.autoscaling | default dict) "enabled") }}
{{- $_ := set $settings.autoscaling "enabled" $own.autoscaling.enabled }}
{{- end }}
{{- if $settings.enabled }}
- app: {{ $app }}
  name: {{ $name }}
  id: {{ printf "%s.%s" $app $name }}
  resource: {{ printf "%s-%s-%s" $full $app $name }}
  restPort: {{ $appValues.restPort }}
  settings: {{ $settings | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* True when the contexts keep their data in PostgreSQL (else SQLite on a volume each). */}}
{{- define "mediamesh.postgres" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{ end -}}
{{- end -}}

{{- define "mediamesh.databaseSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "mediamesh.fullname" .)) -}}
{{- end -}}

{{- define "mediamesh.natsUrl" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.url -}}
{{- else -}}
{{- printf "nats://%s-nats:4222" (include "mediamesh.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "mediamesh.authSecret" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "mediamesh.fullname" .)) -}}
{{- end -}}
