// What a FHIR server of the guide's data SHALL support: the server role of the conformance suite
// reads its required types, profiles, interactions, search parameters (with their expectation),
// comparators and _include/_revinclude from this statement (conformance/suite/server/support.py).
// Only what the statement cannot say lives beside the suite (conformance/suite/server/guide.toml:
// the element each parameter searches, the patient element, page size, minimised extensions).

Alias: $expectation = http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation
Alias: $security-service = http://terminology.hl7.org/CodeSystem/restful-security-service

// One resource type the server SHALL serve, with read, vread and type search (SHALL) and the
// instance history (SHOULD: every kept version, see SK-DATA-003).
RuleSet: ServedType(type)
* type = #{type}
* extension[$expectation].valueCode = #SHALL
* interaction[+].code = #read
* interaction[=].extension[$expectation].valueCode = #SHALL
* interaction[+].code = #vread
* interaction[=].extension[$expectation].valueCode = #SHALL
* interaction[+].code = #search-type
* interaction[=].extension[$expectation].valueCode = #SHALL
* interaction[+].code = #history-instance
* interaction[=].extension[$expectation].valueCode = #SHOULD
* versioning = #versioned
* readHistory = true

RuleSet: Search(name, type, definition, expectation)
* searchParam[+].name = "{name}"
* searchParam[=].type = #{type}
* searchParam[=].definition = "{definition}"
* searchParam[=].extension[$expectation].valueCode = #{expectation}

Instance: sk-server
InstanceOf: CapabilityStatement
Usage: #definition
Title: "sandkasse server (requirements)"
Description: "What a FHIR server that serves the guide's data (the municipal platform's information services, or a vendor's EPJ with its own FHIR API) SHALL support: per resource type its profiles, interactions and search parameters, with comparators, _include/_revinclude and HelseID security. The conformance suite's server role verifies exactly this statement against the published cohort."
* url = "https://sandkasse.no/fhir/CapabilityStatement/sk-server"
* name = "SkServer"
* title = "sandkasse server (requirements)"
* status = #active
* experimental = false
* publisher = "sandkasse"
* description = "What a FHIR server that serves the guide's data (the municipal platform's information services, or a vendor's EPJ with its own FHIR API) SHALL support: per resource type its profiles, interactions and search parameters, with comparators, _include/_revinclude and HelseID security. The conformance suite's server role verifies exactly this statement against the published cohort."
* date = "2026-11-23"   // required (1..1) by R4; the packer keeps this one (tools/pack.py KEEP_DATE)
* kind = #requirements
* fhirVersion = #4.0.1
* format[+] = #application/fhir+json
* format[=].extension[$expectation].valueCode = #SHALL
* format[+] = #json
* format[=].extension[$expectation].valueCode = #SHOULD
* rest[+].mode = #server
* rest[=].documentation = "Every resource is served as loaded from the published cohort, with its id, meta.profile and meta.versionId; references are relative (Type/id). Searches answer a Bundle of type searchset; _count SHALL be honoured on every page and further pages linked with `next` (search.html#paging); _sort=date SHALL order by the date parameter; included resources carry search.mode = include. Unknown parameters SHALL be refused with 400 and an OperationOutcome under Prefer: handling=strict. A read of an unknown id answers 404 with an OperationOutcome. The vedtak's free text (extension vedtakstekst, K8) SHALL NOT be served by default (data minimisation)."
* rest[=].security.cors = false
* rest[=].security.service = $security-service#OAuth "OAuth"
* rest[=].security.service.text = "HelseID (OAuth 2.0: client_credentials with private_key_jwt, DPoP-bound access tokens)"
* rest[=].security.description = "Every request SHALL carry a HelseID access token in `Authorization: DPoP <token>` with a DPoP proof (RFC 9449) for that request. The server SHALL verify the token's signature against HelseID's JWKS (RS256 only; never alg none), iss, aud, exp/nbf, the DPoP binding (cnf.jkt, htm, htu, ath, iat, jti) and answer 401 with `WWW-Authenticate: DPoP error=\"invalid_token\"` for a token that is not valid; it SHALL answer 403 for a valid token without the grant (a scope of another API, or an organisation that may not read the data). Every error is an OperationOutcome."
// Parameters every type supports.
* rest[=] insert Search(_id, token, http://hl7.org/fhir/SearchParameter/Resource-id, SHALL)
* rest[=] insert Search(_lastUpdated, date, http://hl7.org/fhir/SearchParameter/Resource-lastUpdated, SHALL)

* rest[=].resource[+] insert ServedType(Patient)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-patient"
* rest[=].resource[=] insert Search(identifier, token, http://hl7.org/fhir/SearchParameter/Patient-identifier, SHALL)
* rest[=].resource[=].searchRevInclude[+] = "EpisodeOfCare:patient"
* rest[=].resource[=].searchRevInclude[+] = "Observation:patient"
* rest[=].resource[=].searchRevInclude[+] = "Condition:patient"
* rest[=].resource[=].searchRevInclude[+] = "AllergyIntolerance:patient"
* rest[=].resource[=].searchRevInclude[+] = "Flag:patient"
* rest[=].resource[=].searchRevInclude[+] = "MedicationStatement:patient"
* rest[=].resource[=].searchRevInclude[+] = "CarePlan:patient"
* rest[=].resource[=].searchRevInclude[+] = "RelatedPerson:patient"
* rest[=].resource[=].searchRevInclude[+] = "DocumentReference:patient"
* rest[=].resource[=].searchRevInclude[+] = "Consent:patient"

* rest[=].resource[+] insert ServedType(EpisodeOfCare)
* rest[=].resource[=].documentation = "Kommunale tjenester: the vedtak (K1-K9)."
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-kommunal-tjeneste"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(identifier, token, http://hl7.org/fhir/SearchParameter/clinical-identifier, SHALL)
* rest[=].resource[=] insert Search(status, token, http://hl7.org/fhir/SearchParameter/EpisodeOfCare-status, SHALL)
* rest[=].resource[=] insert Search(type, token, http://hl7.org/fhir/SearchParameter/clinical-type, SHALL)
* rest[=].resource[=] insert Search(date, date, https://sandkasse.no/fhir/SearchParameter/sk-date, SHALL)
* rest[=].resource[=] insert Search(organization, reference, http://hl7.org/fhir/SearchParameter/EpisodeOfCare-organization, SHALL)
* rest[=].resource[=].searchInclude[+] = "EpisodeOfCare:patient"

* rest[=].resource[+] insert ServedType(Observation)
* rest[=].resource[=].documentation = "NEWS2-målinger (the seven measurements and the score), functional assessments (IPLOS) and social history."
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-respiratory-rate"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-oxygen-saturation"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-supplemental-oxygen"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-heart-rate"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-blood-pressure"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-consciousness"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-body-temperature"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-news2-score"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-functional-assessment"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-social-history"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(subject, reference, http://hl7.org/fhir/SearchParameter/Observation-subject, SHALL)
* rest[=].resource[=] insert Search(code, token, http://hl7.org/fhir/SearchParameter/clinical-code, SHALL)
* rest[=].resource[=] insert Search(category, token, http://hl7.org/fhir/SearchParameter/Observation-category, SHALL)
* rest[=].resource[=] insert Search(status, token, http://hl7.org/fhir/SearchParameter/Observation-status, SHALL)
* rest[=].resource[=] insert Search(date, date, https://sandkasse.no/fhir/SearchParameter/sk-date, SHALL)
* rest[=].resource[=].searchInclude[+] = "Observation:patient"
* rest[=].resource[=].searchInclude[+] = "Observation:derived-from"

* rest[=].resource[+] insert ServedType(Condition)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-condition"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(subject, reference, http://hl7.org/fhir/SearchParameter/Condition-subject, SHALL)
* rest[=].resource[=] insert Search(code, token, http://hl7.org/fhir/SearchParameter/clinical-code, SHALL)
* rest[=].resource[=].searchInclude[+] = "Condition:patient"

* rest[=].resource[+] insert ServedType(AllergyIntolerance)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-allergyintolerance"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(code, token, http://hl7.org/fhir/SearchParameter/clinical-code, SHALL)
* rest[=].resource[=].searchInclude[+] = "AllergyIntolerance:patient"

* rest[=].resource[+] insert ServedType(Flag)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-critical-information"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=].searchInclude[+] = "Flag:patient"

* rest[=].resource[+] insert ServedType(MedicationStatement)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-medicationstatement"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(code, token, http://hl7.org/fhir/SearchParameter/clinical-code, SHALL)
* rest[=].resource[=] insert Search(status, token, http://hl7.org/fhir/SearchParameter/medications-status, SHALL)
* rest[=].resource[=].searchInclude[+] = "MedicationStatement:patient"

* rest[=].resource[+] insert ServedType(CarePlan)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-careplan"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(category, token, http://hl7.org/fhir/SearchParameter/CarePlan-category, SHALL)
* rest[=].resource[=] insert Search(status, token, http://hl7.org/fhir/SearchParameter/CarePlan-status, SHALL)
* rest[=].resource[=].searchInclude[+] = "CarePlan:patient"

* rest[=].resource[+] insert ServedType(RelatedPerson)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-relatedperson"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/RelatedPerson-patient, SHALL)
* rest[=].resource[=].searchInclude[+] = "RelatedPerson:patient"

* rest[=].resource[+] insert ServedType(DocumentReference)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-documentreference"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=] insert Search(type, token, http://hl7.org/fhir/SearchParameter/clinical-type, SHALL)
* rest[=].resource[=].searchInclude[+] = "DocumentReference:patient"

* rest[=].resource[+] insert ServedType(Consent)
* rest[=].resource[=].documentation = "Sperring (blocks) and advance directives (HLR minus)."
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-sperring"
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-advance-directive"
* rest[=].resource[=] insert Search(patient, reference, http://hl7.org/fhir/SearchParameter/clinical-patient, SHALL)
* rest[=].resource[=].searchInclude[+] = "Consent:patient"

* rest[=].resource[+] insert ServedType(Provenance)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-provenance"
* rest[=].resource[=] insert Search(target, reference, http://hl7.org/fhir/SearchParameter/Provenance-target, SHALL)

* rest[=].resource[+] insert ServedType(Organization)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-organization"
* rest[=].resource[=] insert Search(identifier, token, http://hl7.org/fhir/SearchParameter/Organization-identifier, SHALL)

* rest[=].resource[+] insert ServedType(Practitioner)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-practitioner"
* rest[=].resource[=] insert Search(identifier, token, http://hl7.org/fhir/SearchParameter/Practitioner-identifier, SHALL)

* rest[=].resource[+] insert ServedType(PractitionerRole)
* rest[=].resource[=].supportedProfile[+] = "https://sandkasse.no/fhir/StructureDefinition/sk-practitionerrole"
* rest[=].resource[=] insert Search(practitioner, reference, http://hl7.org/fhir/SearchParameter/PractitionerRole-practitioner, SHALL)
* rest[=].resource[=] insert Search(organization, reference, http://hl7.org/fhir/SearchParameter/PractitionerRole-organization, SHALL)

// The date parameter as the guide requires it: the standard clinical date restricted to the two
// information services, with the comparators a server SHALL support (search.html#date).
Instance: sk-date
InstanceOf: SearchParameter
Usage: #definition
Title: "date (vedtak period, NEWS2 effective time)"
Description: "The date of a vedtak (EpisodeOfCare.period) or a measurement (Observation.effective), with the comparators eq, ge, le, gt and lt, each comparing the ranges the search value and the element stand for."
* url = "https://sandkasse.no/fhir/SearchParameter/sk-date"
* name = "date"
* status = #active
* experimental = false
* publisher = "sandkasse"
* description = "The date of a vedtak (EpisodeOfCare.period) or a measurement (Observation.effective), with the comparators eq, ge, le, gt and lt, each comparing the ranges the search value and the element stand for."
* derivedFrom = "http://hl7.org/fhir/SearchParameter/clinical-date"
* code = #date
* base[+] = #EpisodeOfCare
* base[+] = #Observation
* type = #date
* expression = "EpisodeOfCare.period | Observation.effective"
* xpathUsage = #normal
* comparator[+] = #eq
* comparator[+] = #ge
* comparator[+] = #le
* comparator[+] = #gt
* comparator[+] = #lt
