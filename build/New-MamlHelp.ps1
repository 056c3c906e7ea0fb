# Turns docs/cmdlets/<Verb-Noun>.md (platyPS layout) into the module's MAML help.
# Syntax, parameter types, positions and pipeline input come from the built cmdlets themselves;
# the words (synopsis, description, examples, parameter text, outputs) come from the markdown.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutFile
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$module = Import-Module $ModulePath -PassThru -Force
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

function Split-Sections([string] $text, [string] $prefix) {
    $sections = [ordered]@{}
    $name = $null
    $buffer = [System.Text.StringBuilder]::new()
    $inCode = $false
    foreach ($line in $text -split "`r?`n") {
        if ($line.StartsWith('```')) { $inCode = -not $inCode }
        if (-not $inCode -and $line.StartsWith($prefix) -and -not $line.StartsWith($prefix + '#')) {
            if ($null -ne $name) { $sections[$name] = $buffer.ToString().Trim() }
            $name = $line.Substring($prefix.Length).Trim()
            [void]$buffer.Clear()
        }
        elseif ($null -ne $name) { [void]$buffer.AppendLine($line) }
    }
    if ($null -ne $name) { $sections[$name] = $buffer.ToString().Trim() }
    $sections
}

function Add-Paras([System.Xml.XmlWriter] $w, [string] $text) {
    foreach ($para in ($text -split "(`r?`n){2,}" | Where-Object { $_.Trim() })) {
        $w.WriteElementString('maml', 'para', $ns.maml, ($para -replace "`r?`n", ' ').Trim())
    }
}

$ns = @{ maml = 'http://schemas.microsoft.com/maml/2004/10'; command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'; dev = 'http://schemas.microsoft.com/maml/dev/2004/10' }
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$w = [System.Xml.XmlWriter]::Create($OutFile, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
$missing = @()
foreach ($cmd in (Get-Command -Module $module.Name | Sort-Object Name)) {
    $md = Join-Path $DocsPath "$($cmd.Name).md"
    if (-not (Test-Path $md)) { $missing += $cmd.Name; continue }
    $doc = Split-Sections (Get-Content $md -Raw) '## '
    $paramDocs = if ($doc.Contains('PARAMETERS')) { Split-Sections $doc['PARAMETERS'] '### ' } else { @{} }
    $examples = if ($doc.Contains('EXAMPLES')) { Split-Sections $doc['EXAMPLES'] '### ' } else { @{} }

    $w.WriteStartElement('command', 'command', $ns.command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $w.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $w.WriteStartElement('command', 'details', $ns.command)
    $w.WriteElementString('command', 'name', $ns.command, $cmd.Name)
    $w.WriteStartElement('maml', 'description', $ns.maml); Add-Paras $w $doc['SYNOPSIS']; $w.WriteEndElement()
    $w.WriteElementString('command', 'verb', $ns.command, $cmd.Verb)
    $w.WriteElementString('command', 'noun', $ns.command, $cmd.Noun)
    $w.WriteEndElement()
    $w.WriteStartElement('maml', 'description', $ns.maml); Add-Paras $w $doc['DESCRIPTION']; $w.WriteEndElement()

    $pipelineText = {
        param($p)
        $byValue = $p.ValueFromPipeline; $byName = $p.ValueFromPipelineByPropertyName
        if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' } elseif ($byValue) { 'True (ByValue)' } elseif ($byName) { 'True (ByPropertyName)' } else { 'False' }
    }
    $w.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $cmd.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        $w.WriteElementString('maml', 'name', $ns.maml, $cmd.Name)
        foreach ($p in $set.Parameters | Where-Object Name -NotIn $common) {
            $w.WriteStartElement('command', 'parameter', $ns.command)
            $w.WriteAttributeString('required', "$($p.IsMandatory)".ToLower())
            $w.WriteAttributeString('position', $(if ($p.Position -ge 0) { "$($p.Position)" } else { 'named' }))
            $w.WriteAttributeString('pipelineInput', (& $pipelineText $p))
            $w.WriteElementString('maml', 'name', $ns.maml, $p.Name)
            if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
                $w.WriteStartElement('command', 'parameterValue', $ns.command)
                $w.WriteAttributeString('required', 'true')
                $w.WriteString($p.ParameterType.Name)
                $w.WriteEndElement()
            }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in ($cmd.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)) {
        $meta = $cmd.Parameters[$name]
        $first = $meta.ParameterSets.Values | Select-Object -First 1
        $w.WriteStartElement('command', 'parameter', $ns.command)
        $w.WriteAttributeString('required', "$(@($meta.ParameterSets.Values | Where-Object IsMandatory).Count -gt 0)".ToLower())
        $w.WriteAttributeString('position', $(if ($first.Position -ge 0) { "$($first.Position)" } else { 'named' }))
        $w.WriteAttributeString('pipelineInput', (& $pipelineText $first))
        $w.WriteAttributeString('globbing', "$([bool]($meta.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }))".ToLower())
        $w.WriteAttributeString('aliases', $(if ($meta.Aliases.Count) { $meta.Aliases -join ', ' } else { 'none' }))
        $w.WriteElementString('maml', 'name', $ns.maml, $name)
        $w.WriteStartElement('maml', 'description', $ns.maml)
        $text = if ($paramDocs.Contains("-$name")) { $paramDocs["-$name"] -replace '(?s)```yaml.*?```', '' } else { $missing += "$($cmd.Name) -$name"; '' }
        Add-Paras $w $text
        $w.WriteEndElement()
        $w.WriteStartElement('command', 'parameterValue', $ns.command); $w.WriteAttributeString('required', 'true'); $w.WriteString($meta.ParameterType.Name); $w.WriteEndElement()
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $meta.ParameterType.FullName); $w.WriteEndElement()
        # The default, where the text states one as "(default X)".
        $default = [regex]::Match($text, '\(default ([^);]+)[);]').Groups[1].Value
        if ($default) { $w.WriteElementString('dev', 'defaultValue', $ns.dev, $default.Trim()) }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($t in $cmd.OutputType) {
        $w.WriteStartElement('command', 'returnValue', $ns.command)
        $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $t.Name); $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $ns.command)
    $i = 0
    foreach ($title in $examples.Keys) {
        $i++
        $body = $examples[$title]
        $code = [regex]::Match($body, '(?s)```(?:powershell)?\s*\n(.*?)```').Groups[1].Value.TrimEnd()
        $remarks = [regex]::Replace($body, '(?s)```.*?```', '').Trim()
        $w.WriteStartElement('command', 'example', $ns.command)
        $w.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $title --------------------------")
        $w.WriteElementString('dev', 'code', $ns.dev, $code)
        $w.WriteStartElement('dev', 'remarks', $ns.dev); Add-Paras $w $remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Close()
if ($missing) { throw "Help is missing for: $($missing -join '; '). Write it in $DocsPath." }
