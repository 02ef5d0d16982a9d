// Code systems and identifier systems used across the guide (see conformance/ig/CONTRACT.md).

// Identifier systems (OIDs from Direktoratet for e-helse / Norsk helsenett)
Alias: $FNR = urn:oid:2.16.578.1.12.4.1.4.1
Alias: $DNR = urn:oid:2.16.578.1.12.4.1.4.2
Alias: $FHN = urn:oid:2.16.578.1.12.4.1.4.3
Alias: $HPR = urn:oid:2.16.578.1.12.4.1.4.4
Alias: $HER = urn:oid:2.16.578.1.12.4.1.2
Alias: $ORGNR = urn:oid:2.16.578.1.12.4.1.4.101

// Sandbox code systems (content complete)
Alias: $news2 = https://sandkasse.no/fhir/CodeSystem/news2
Alias: $acvpu = https://sandkasse.no/fhir/CodeSystem/acvpu
Alias: $kpr = https://sandkasse.no/fhir/CodeSystem/kpr-tjenestetype
Alias: $problemomrade = https://sandkasse.no/fhir/CodeSystem/sykepleie-problemomrade
Alias: $iplos = https://sandkasse.no/fhir/CodeSystem/iplos-funksjon
Alias: $kritisk = https://sandkasse.no/fhir/CodeSystem/kritisk-informasjon
Alias: $sperretype = https://sandkasse.no/fhir/CodeSystem/sperretype
Alias: $lokal0301 = https://sandkasse.no/fhir/CodeSystem/lokal-tjeneste-0301
Alias: $kommunenummer = https://register.geonorge.no/subregister/sosi-kodelister/kartverket/kommunenummer-alle

// External code systems (shipped as fragments with the codes the platform uses)
Alias: $loinc = http://loinc.org
Alias: $sct = http://snomed.info/sct
Alias: $icpc2 = http://hl7.org/fhir/sid/icpc-2
Alias: $icd10no = http://hl7.org/fhir/sid/icd-10-no
Alias: $atc = http://www.whocc.no/atc
Alias: $ucum = http://unitsofmeasure.org

// FHIR core / THO code systems
Alias: $obscat = http://terminology.hl7.org/CodeSystem/observation-category
Alias: $consentscope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $v3ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $v3RoleCode = http://terminology.hl7.org/CodeSystem/v3-RoleCode
Alias: $v3Confidentiality = http://terminology.hl7.org/CodeSystem/v3-Confidentiality
Alias: $v3ParticipationType = http://terminology.hl7.org/CodeSystem/v3-ParticipationType
Alias: $v2-0203 = http://terminology.hl7.org/CodeSystem/v2-0203
Alias: $clinicalstatus = http://terminology.hl7.org/CodeSystem/condition-clinical
Alias: $verstatus = http://terminology.hl7.org/CodeSystem/condition-ver-status
Alias: $conditioncat = http://terminology.hl7.org/CodeSystem/condition-category
Alias: $allergyclinical = http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical
Alias: $flagcat = http://terminology.hl7.org/CodeSystem/flag-category
Alias: $provagent = http://terminology.hl7.org/CodeSystem/provenance-participant-type
Alias: $auditeventtype = http://terminology.hl7.org/CodeSystem/audit-event-type
Alias: $restfulinteraction = http://hl7.org/fhir/restful-interaction
Alias: $dicomdcm = http://dicom.nema.org/resources/ontology/DCM
Alias: $orgtype = http://terminology.hl7.org/CodeSystem/organization-type
Alias: $consentaction = http://terminology.hl7.org/CodeSystem/consentaction
Alias: $consentcategory = http://terminology.hl7.org/CodeSystem/consentcategorycodes
Alias: $docclass = http://loinc.org
