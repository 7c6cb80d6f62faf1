# shiftline, English. The message value is the SMS text; a `.voice` attribute, where there
# is one, is the spoken IVR wording. Keep texts plain: straight quotes, no emoji, so an SMS
# stays in GSM-7 (a test fails any reply over two segments).

## Numbers that are not on the roster
not-registered = Sorry, this number isn't registered for shift work. Please ask your manager to add you.
not-registered-join = Sorry, this number isn't registered. If your manager gave you a PIN, text JOIN, the PIN and your name, like: JOIN 1234 Ana
    .voice = This phone number is not registered.
join-usage = To register, text JOIN, your PIN and your name, like: JOIN 1234 Ana
    .voice = Please enter your enrolment PIN, then press pound.
join-wrong-pin = That PIN didn't work. Check it with your manager and try again.
    .voice = That PIN didn't work.
join-locked = Too many wrong PINs from this number. Please try again in an hour.
    .voice = Too many wrong PINs from this number. Please try again in an hour.
join-welcome = Welcome, { $name }! You're registered. Text ON to take calls or HELP for commands.
    .voice = Welcome. You're registered.
join-already = You're already registered as { $name }. Text HELP for commands.
    .voice = This phone is already registered as { $name }.

## Going online and offline
online = You're online for { $skills }. Text OFF when you're done.
    .voice = You're online for { $skills }.
already-online = You're already online for { $skills }. Text OFF when you're done.
    .voice = You're already online for { $skills }.
offline = You're offline. Text ON when you're ready.
    .voice = You're offline.
already-offline = You're already offline. Text ON when you're ready.
    .voice = You're already offline.
operator-offline = Your manager took you offline, so no calls will come to you. Text ON when you're ready.

## The skill menu
skill-menu = Pick your skills: { $menu }. Reply with numbers like 1 3, or ALL.
    .voice = Enter the numbers of your skills, then press pound. { $menu }.
skill-menu-first = Hi { $name }! First pick your skills: { $menu }. Reply with numbers like 1 3, or ALL.
    .voice = Hi { $name }. First choose your skills: enter their numbers, then press pound. { $menu }.
menu-no-such-number = There's no skill { $number }. Reply with numbers from 1 to { $count }, like 1 3, or ALL. NO cancels.
    .voice = There is no skill { $number }.
menu-unmatched = I couldn't match "{ $text }" to a skill. Reply with numbers like 1 3, or ALL. NO cancels.
    .voice = Sorry, I didn't catch that.
menu-blank = Reply with skill numbers like 1 3, or ALL. NO cancels.
    .voice = Sorry, I didn't catch that.
menu-expired = That menu timed out after 15 minutes, so nothing changed. Text SKILLS to start again.
    .voice = That menu timed out, so nothing changed.
confirm-skills = You picked { $skills }. Reply YES to save or NO to cancel.
    .voice = You chose { $skills }. Press 1 to save, or 2 to cancel.
confirm-skills-online = You picked { $skills }. Reply YES to save and go online, or NO to cancel.
    .voice = You chose { $skills }. Press 1 to save and go online, or 2 to cancel.
confirm-unclear = Reply YES to save { $skills }, or NO to cancel.
    .voice = Press 1 to save { $skills }, or 2 to cancel.
skills-saved = Saved. Your skills: { $skills }.
    .voice = Saved. Your skills are { $skills }.
skills-saved-online = Saved. You're online for { $skills }. Text OFF when you're done.
    .voice = Saved. You're online for { $skills }.
cancelled-offline = Cancelled, nothing changed. You're offline.
    .voice = Cancelled, nothing changed. You're offline.
cancelled-online = Cancelled, nothing changed. You're still online.
    .voice = Cancelled, nothing changed. You're online.
nothing-to-confirm = There's nothing to confirm right now. Text HELP for commands.
    .voice = There is nothing to confirm.
no-skills = none yet

## Status, help, language
status-online = { $name }, you're online for { $skills }.
    .voice = { $name }, you're online for { $skills }.
status-offline = { $name }, you're offline. Your skills: { $skills }. Text ON to take calls.
    .voice = { $name }, you're offline. Your skills are { $skills }.
status-offline-no-skills = { $name }, you're offline and have no skills yet. Text ON to pick skills and start.
    .voice = { $name }, you're offline, and you have no skills yet.
status-online-until = { $name }, you're online for { $skills } until { $until }.
    .voice = { $name }, you're online for { $skills } until { $until }.
status-offline-until = { $name }, you're offline until { $until }. Text ON to come back sooner.
    .voice = { $name }, you're offline until { $until }.
help = Text ON to take calls, OFF to stop, SKILLS, SCHEDULE mon-fri 9-17, STATUS, or LANG ES for Spanish.
    .voice = Press 1 to go online, 2 to go offline, 3 to change your skills, or 4 to hear your status.
lang-set = OK, I'll text you in English. Text HELP for commands.
    .voice = OK, I'll speak English.
lang-options = Text LANG EN for English or LANG ES for Spanish.
    .voice = You can use English or Spanish.
not-understood = Sorry, I didn't understand "{ $text }". Text ON, OFF, SKILLS, STATUS or HELP.
    .voice = Sorry, I didn't catch that.
not-understood-blank = Sorry, I couldn't read that. Text ON, OFF, SKILLS, STATUS or HELP.
    .voice = Sorry, I didn't catch that.
not-understood-closest = Sorry, I didn't understand "{ $text }". Did you mean { $commands }? Text HELP for all commands.
    .voice = Sorry, I didn't catch that.
confirm-guess = Did you mean { $command }? Reply YES or NO.
    .voice = Did you mean { $command }? Press 1 for yes, or 2 for no.
confirm-guess-hold = Did you mean { $command } until { $until }? Reply YES or NO.
    .voice = Did you mean { $command } until { $until }? Press 1 for yes, or 2 for no.
later-online = Nothing changed for now. Text ON when you're ready to take calls, or set weekly hours with SCHEDULE.
    .voice = Nothing changed. Call again when you're ready.
later-offline = Nothing changed for now. Text OFF when you stop, or OFF for 30m for a break.
    .voice = Nothing changed. Call again when you stop.

## Command names, as a worker texts them
command-on = ON
command-off = OFF
command-skills = SKILLS
command-schedule = SCHEDULE
command-status = STATUS
command-help = HELP
command-lang = LANG
command-yes = YES
command-no = NO
command-stop = STOP
command-start = START
command-tz = TZ
command-join = JOIN
word-or = or

## Carrier opt-out
opted-out = You're offline and won't get texts from us. Text START to undo.
    .voice = You're offline, and you won't get texts from us.
opted-in = Welcome back, you'll get our texts again.

## Calls: what customers and workers hear (spoken), and the texts about calls
customer-greeting = Thanks for calling.
customer-menu-item = For { $skill }, press { $digit }.
customer-no-choice = Sorry, I didn't get that.
customer-hold = Please stay on the line. The next available person will take your call.
customer-position = You are number { $position } in line.
customer-hold-callback = Or press { $key } to hang up and be called back at this number when someone is free.
customer-callback-thanks = Thank you. We will call you back at this number as soon as someone is free. Goodbye.
# The worker's call. The prompt never names the caller (a voicemail box may be
# listening); the whisper with the bridge may, once a person took the call.
whisper-press1 = { $skill } call. Press 1 to take it.
whisper-connect = { $skill } call. Connecting.
whisper-connect-city = { $skill } call from { $city }. Connecting.
whisper-connect-digits = { $skill } call from a number ending in { $digits }. Connecting.
connecting = Connecting.
connecting-city = Call from { $city }. Connecting.
connecting-digits = Call from a number ending in { $digits }. Connecting.
whisper-goodbye = OK, the call will go to someone else. Goodbye.
whisper-callback-press1 = { $skill } callback. Press 1 to call the customer back.
whisper-callback = Callback for { $skill }, asked { $asked }.
whisper-callback-city = Callback for { $skill } from a caller in { $city }, asked { $asked }.
whisper-callback-digits = Callback for { $skill } from a number ending in { $digits }, asked { $asked }.
whisper-asked-today = at { $time }
whisper-asked-yesterday = yesterday at { $time }
whisper-asked-earlier = on { $date } at { $time }
whisper-callback-message = Their message:
whisper-callback-dialing = Calling them now.
whisper-callback-retry = The customer did not answer. We will try again later. Goodbye.
whisper-callback-closed = The customer did not answer again, so the request is closed. Goodbye.
voicemail-prompt = Sorry, nobody can take your call right now. Please leave a message after the tone, and we will call you back.
voicemail-thanks = Thank you. Goodbye.
voicemail-notify = New voicemail from { $caller } ({ $skill }, { $seconds } s). Listen: { $url }
voicemail-notify-words = New voicemail from { $caller } ({ $skill }, { $seconds } s): "{ $words }" Listen: { $url }
callback-abandoned = Callback closed: { $caller } ({ $skill }) did not answer { $attempts } calls.
missed-calls-offline = You missed { $count } calls in a row, so you're offline now. Text ON when you're ready to take calls again.

## The intake line (spoken only)
ivr-hello-online = Hi { $name }, you're online.
ivr-hello-offline = Hi { $name }, you're offline.
ivr-menu = Press 1 to go online, 2 to go offline, 3 to change your skills, 4 to hear your status, or 9 to repeat. You can also say online or offline.
ivr-no-input = I didn't hear anything.
ivr-goodbye = Goodbye.
ivr-not-registered = This phone number is not registered for shift work. Please ask your manager to add you. Goodbye.
ivr-pin = This phone number is not registered. If you have an enrolment PIN, enter it now, then press pound.

## Weekly schedules and time zones
schedule-ask = Send your weekly hours, like: mon-fri 9-17, or sat 22-6. Times are { $zone } time. NO cancels.
    .voice = Please text your weekly hours to this number, like mon-fri 9-17.
schedule-unclear = I didn't find hours in "{ $text }". Send them like mon-fri 9-17 ({ $zone } time), or NO to cancel.
    .voice = Sorry, I didn't catch that.
confirm-schedule = { $schedule } { $zone } time. Reply YES to save or NO to cancel.
    .voice = { $schedule } { $zone } time. Press 1 to save, or 2 to cancel.
confirm-schedule-clear = Clear your weekly schedule? Reply YES or NO.
    .voice = Clear your weekly schedule? Press 1 for yes, or 2 for no.
confirm-schedule-unclear = Reply YES to save the schedule, or NO to cancel.
    .voice = Press 1 to save the schedule, or 2 to cancel.
schedule-invalid = { $error }. Nothing changed.
schedule-saved = Saved: { $schedule } { $zone } time. Next: { $next }.
schedule-cleared = Your weekly schedule is cleared.
status-schedule = Schedule: { $schedule } { $zone } time. Next: { $next }.
tz-set = OK, your time zone is { $zone }.
tz-unknown = I don't know that place. Text TZ and a city, like TZ Chicago, or a zone like TZ America/Chicago.
    .voice = I don't know that place.
shift-started = Your shift started: you're online for { $skills }. Text OFF to stop.
shift-ended = Your shift ended: you're offline. Next shift: { $next }.
shift-no-skills = Your shift started, but you have no skills yet. Text SKILLS to pick them.

## Temporary ON and OFF
hold-online = You're online for { $skills } until { $until }.
hold-offline = You're offline until { $until }.
hold-over-online = Your break is over: you're online again for { $skills }. Text OFF to stop.
hold-over-offline = Your time online is over: you're offline now. Text ON when you're ready.
