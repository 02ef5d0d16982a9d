// Value sets the profiles bind to. Canonicals under https://sandkasse.no/fhir/ValueSet/.

RuleSet: SandboxValueSet
* ^status = #active
* ^experimental = false

ValueSet: KommunenummerVS
Id: kommunenummer
Title: "Kommunenummer"
Description: "All municipality numbers of Norway (2024)."
* insert SandboxValueSet
* include codes from system $kommunenummer

ValueSet: KprTjenestetypeVS
Id: kpr-tjenestetype
Title: "KPR tjenestetype"
Description: "National service types of municipal health and care services (K2)."
* insert SandboxValueSet
* include codes from system $kpr

ValueSet: News2TotalCodeVS
Id: news2-total-code
Title: "NEWS2 total score code"
Description: "The code of the NEWS2 total score observation."
* insert SandboxValueSet
* $news2#total

ValueSet: News2ComponentCodeVS
Id: news2-component-code
Title: "NEWS2 component score codes"
Description: "The seven parameter scores that make up the NEWS2 total."
* insert SandboxValueSet
* $news2#respiratory-rate-score
* $news2#spo2-score
* $news2#air-or-oxygen-score
* $news2#systolic-bp-score
* $news2#pulse-score
* $news2#consciousness-score
* $news2#temperature-score

ValueSet: AirOrOxygenVS
Id: air-or-oxygen
Title: "Air or supplemental oxygen"
Description: "Room air or supplemental oxygen (NEWS2)."
* insert SandboxValueSet
* $news2#air
* $news2#oxygen

ValueSet: PulseRegularityVS
Id: pulse-regularity
Title: "Pulse regularity"
Description: "Regular or irregular pulse."
* insert SandboxValueSet
* $news2#regular
* $news2#irregular

ValueSet: AcvpuVS
Id: acvpu
Title: "ACVPU"
Description: "Level of consciousness on the ACVPU scale."
* insert SandboxValueSet
* include codes from system $acvpu

ValueSet: SykepleieProblemomradeVS
Id: sykepleie-problemomrade
Title: "Sykepleie problemområde"
Description: "Nursing problem areas of a municipal care plan."
* insert SandboxValueSet
* include codes from system $problemomrade

ValueSet: IplosFunksjonVS
Id: iplos-funksjon
Title: "IPLOS funksjonsvariabler"
Description: "IPLOS/KPR functional variables."
* insert SandboxValueSet
* include codes from system $iplos

ValueSet: KritiskInformasjonVS
Id: kritisk-informasjon
Title: "Kritisk informasjon"
Description: "Kinds of critical information."
* insert SandboxValueSet
* include codes from system $kritisk

ValueSet: SperretypeVS
Id: sperretype
Title: "Sperretype"
Description: "Kinds of blocks (sperring) in Consent.provision.code."
* insert SandboxValueSet
* $sperretype#helsepersonell
* $sperretype#virksomhet
* $sperretype#opplysninger

ValueSet: ConditionCodeVS
Id: condition-code
Title: "Condition codes (ICPC-2, ICD-10, SNOMED CT)"
Description: "Problems and diagnoses coded in ICPC-2 (fastlege, legevakt), ICD-10 (specialist care) or SNOMED CT. The ICPC-2 and ICD-10 code systems are shipped as fragments."
* insert SandboxValueSet
* include codes from system $icpc2
* include codes from system $icd10no
* include codes from system $sct

ValueSet: AtcVS
Id: atc
Title: "ATC"
Description: "Medicinal substances by WHO ATC code."
* insert SandboxValueSet
* include codes from system $atc

ValueSet: AllergyCodeVS
Id: allergy-code
Title: "Allergy and intolerance codes"
Description: "Allergies and intolerances (SNOMED CT), and the substances they are to (SNOMED CT substances, ATC for medicinal products), as used in sandkasse."
* insert SandboxValueSet
* $sct#91936005 "Allergy to penicillin"
* $sct#294505008 "Allergy to amoxicillin"
* $sct#91935009 "Allergy to peanut"
* $sct#91934008 "Allergy to nut"
* $sct#300913006 "Shellfish allergy"
* $sct#91930004 "Allergy to egg"
* $sct#425525006 "Allergy to dairy product"
* $sct#418689008 "Allergy to grass pollen"
* $sct#232347008 "Dander (animal) allergy"
* $sct#300916003 "Latex allergy"
* $sct#293586001 "Allergy to aspirin"
* $sct#293619005 "Allergy to ibuprofen"
* $sct#294532003 "Allergy to sulfonamide"
* $sct#424213003 "Allergy to bee venom"
* $sct#716186003 "No known allergy"
* $sct#762952008 "Peanut"
* $sct#111088007 "Latex"
* $sct#256259004 "Pollen"
* include codes from system $atc

ValueSet: DocumentTypeVS
Id: document-type
Title: "Clinical document types"
Description: "Types of clinical documents (LOINC) exchanged as DocumentReference."
* insert SandboxValueSet
* $loinc#11506-3 "Progress note"
* $loinc#18842-5 "Discharge summary"
* $loinc#34133-9 "Summary of episode note"
* $loinc#60591-5 "Patient summary Document"
* $loinc#11488-4 "Consult note"
* $loinc#28570-0 "Procedure note"
* $loinc#57133-1 "Referral note"
* $loinc#34108-1 "Outpatient Note"

ValueSet: SocialHistoryCodeVS
Id: social-history-code
Title: "Social history codes"
Description: "What a social-history observation records (LOINC)."
* insert SandboxValueSet
* $loinc#72166-2 "Tobacco smoking status"
* $loinc#74013-4 "Alcoholic drinks per day"
* $loinc#11341-5 "History of Occupation"
* $loinc#29762-2 "Social history Narrative"
* $loinc#82589-3 "Highest level of education"

ValueSet: PurposeOfUseVS
Id: purpose-of-use
Title: "Purpose of use"
Description: "Why data was accessed (HL7 v3 ActReason purposes of use used by the platform's audit)."
* insert SandboxValueSet
* http://terminology.hl7.org/CodeSystem/v3-ActReason#TREAT "treatment"
* http://terminology.hl7.org/CodeSystem/v3-ActReason#ETREAT "Emergency Treatment"
* http://terminology.hl7.org/CodeSystem/v3-ActReason#HOPERAT "healthcare operations"
* http://terminology.hl7.org/CodeSystem/v3-ActReason#PATRQT "patient requested"
* http://terminology.hl7.org/CodeSystem/v3-ActReason#SYSDEV "system development"

ValueSet: OrganisasjonstypeVS
Id: organisasjonstype
Title: "Organisasjonstype"
Description: "Kinds of municipal organisations and service units."
* insert SandboxValueSet
* include codes from system https://sandkasse.no/fhir/CodeSystem/organisasjonstype
