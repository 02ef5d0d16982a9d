// NEWS2-målinger (pilot 2): the seven measurements and the NEWS2 score derived from them.
// N1–N9 refer to information-model.md §2.3 "N".

RuleSet: CategorySlice(sliceName, system, code)
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains {sliceName} 1..1 MS
* category[{sliceName}] = {system}#{code}

RuleSet: News2Measurement
* insert SandboxProfile
* obeys sk-vital-value-or-absent
* status MS
* insert CategorySlice(VSCat, $obscat, vital-signs)
* code MS
* subject 1..1 MS
* subject only Reference(SkPatient)
* encounter MS
* effective[x] 1..1 MS
* effective[x] only dateTime or Period
* performer MS
* value[x] MS
* dataAbsentReason MS

RuleSet: UcumQuantity(unit)
* value[x] only Quantity
* valueQuantity.value 1..1 MS
* valueQuantity.unit MS
* valueQuantity.system 1..1 MS
* valueQuantity.system = "http://unitsofmeasure.org" (exactly)
* valueQuantity.code 1..1 MS
* valueQuantity.code = #{unit} (exactly)

Profile: SkNews2RespiratoryRate
Parent: Observation
Id: sk-news2-respiratory-rate
Title: "NEWS2 respirasjonsfrekvens"
Description: "N1: respiratory rate in breaths per minute."
* insert News2Measurement
* code = $loinc#9279-1
* insert UcumQuantity(/min)

Profile: SkNews2OxygenSaturation
Parent: Observation
Id: sk-news2-oxygen-saturation
Title: "NEWS2 oksygenmetning (SpO2)"
Description: "N2: oxygen saturation by pulse oximetry in %, with the NEWS2 SpO2 scale (1 or 2) used."
* insert News2Measurement
* obeys sk-spo2-scale
* code = $loinc#59408-5
* insert UcumQuantity(%)
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #open
* component contains scale 0..1 MS
* component[scale].code = $news2#spo2-scale
* component[scale].value[x] 1..1 MS
* component[scale].value[x] only integer

Profile: SkNews2SupplementalOxygen
Parent: Observation
Id: sk-news2-supplemental-oxygen
Title: "NEWS2 tilførsel av oksygen"
Description: "N3: whether the patient breathes room air or receives supplemental oxygen."
* insert News2Measurement
* code = $news2#air-or-oxygen
* value[x] only CodeableConcept
* valueCodeableConcept 0..1 MS
* valueCodeableConcept from AirOrOxygenVS (required)
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #open
* component contains flowRate 0..1 MS
* component[flowRate].code = $loinc#3151-8
* component[flowRate].value[x] only Quantity
* component[flowRate].valueQuantity.system = "http://unitsofmeasure.org" (exactly)
* component[flowRate].valueQuantity.code = #L/min (exactly)

Profile: SkNews2HeartRate
Parent: Observation
Id: sk-news2-heart-rate
Title: "NEWS2 puls"
Description: "N4: pulse in beats per minute, with its regularity."
* insert News2Measurement
* code = $loinc#8867-4
* insert UcumQuantity(/min)
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #open
* component contains regularity 0..1 MS
* component[regularity].code = $news2#pulse-regularity
* component[regularity].value[x] 1..1 MS
* component[regularity].value[x] only CodeableConcept
* component[regularity].valueCodeableConcept from PulseRegularityVS (required)

Profile: SkNews2BloodPressure
Parent: Observation
Id: sk-news2-blood-pressure
Title: "NEWS2 blodtrykk"
Description: "N5: blood pressure; NEWS2 scores the systolic component."
* insert News2Measurement
* code = $loinc#85354-9
* value[x] 0..0
* component 1..* MS
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #open
* component contains systolic 1..1 MS and diastolic 0..1 MS
* component[systolic].code = $loinc#8480-6
* component[systolic].value[x] 1..1 MS
* component[systolic].value[x] only Quantity
* component[systolic].valueQuantity.system = "http://unitsofmeasure.org" (exactly)
* component[systolic].valueQuantity.code = #mm[Hg] (exactly)
* component[diastolic].code = $loinc#8462-4
* component[diastolic].value[x] MS
* component[diastolic].value[x] only Quantity
* component[diastolic].valueQuantity.system = "http://unitsofmeasure.org" (exactly)
* component[diastolic].valueQuantity.code = #mm[Hg] (exactly)

Profile: SkNews2Consciousness
Parent: Observation
Id: sk-news2-consciousness
Title: "NEWS2 bevissthetsnivå (ACVPU)"
Description: "N6: level of consciousness on the ACVPU scale."
* insert News2Measurement
* code = $news2#consciousness
* value[x] only CodeableConcept
* valueCodeableConcept 0..1 MS
* valueCodeableConcept from AcvpuVS (required)

Profile: SkNews2BodyTemperature
Parent: Observation
Id: sk-news2-body-temperature
Title: "NEWS2 temperatur"
Description: "N7: body temperature in degrees Celsius."
* insert News2Measurement
* code = $loinc#8310-5
* insert UcumQuantity(Cel)

RuleSet: News2Component(sliceName, code)
* component[{sliceName}].code = $news2#{code}
* component[{sliceName}].value[x] 1..1 MS
* component[{sliceName}].value[x] only integer

Profile: SkNews2Score
Parent: Observation
Id: sk-news2-score
Title: "NEWS2 score"
Description: "N8/N9: the NEWS2 total with its seven parameter scores, always linked to the measurements it was derived from (the score is of little use without them)."
* insert SandboxProfile
* obeys sk-news2-total-sum and sk-news2-derived-from and sk-news2-total-range
* status MS
* insert CategorySlice(survey, $obscat, survey)
* code MS
* code = $news2#total
* subject 1..1 MS
* subject only Reference(SkPatient)
* encounter MS
* effective[x] 1..1 MS
* effective[x] only dateTime or Period
* performer MS
* value[x] 1..1 MS
* value[x] only integer
* interpretation MS
* component 7..7 MS
* component obeys sk-news2-component-range
* component.code from News2ComponentCodeVS (required)
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #closed
* component contains
    respiratoryRate 1..1 MS and
    spo2 1..1 MS and
    airOrOxygen 1..1 MS and
    systolicBp 1..1 MS and
    pulse 1..1 MS and
    consciousness 1..1 MS and
    temperature 1..1 MS
* insert News2Component(respiratoryRate, respiratory-rate-score)
* insert News2Component(spo2, spo2-score)
* insert News2Component(airOrOxygen, air-or-oxygen-score)
* insert News2Component(systolicBp, systolic-bp-score)
* insert News2Component(pulse, pulse-score)
* insert News2Component(consciousness, consciousness-score)
* insert News2Component(temperature, temperature-score)
* derivedFrom 7..* MS
* derivedFrom only Reference(SkNews2RespiratoryRate or SkNews2OxygenSaturation or SkNews2SupplementalOxygen or SkNews2HeartRate or SkNews2BloodPressure or SkNews2Consciousness or SkNews2BodyTemperature)
* derivedFrom ^short = "The seven measurements this score was computed from"
