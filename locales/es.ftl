# shiftline, español. El valor es el texto del SMS; un atributo `.voice`, donde lo hay, es
# lo que dice el IVR. Á, í, ó, ú no son GSM-7: un SMS con ellas se parte en trozos de 67
# caracteres, y una prueba falla si una respuesta pasa de dos.

## Números que no están en la lista
not-registered = Este número no está registrado para turnos. Pide a tu encargado que te agregue.
not-registered-join = Este número no está registrado. Si tienes un PIN, envía JOIN, el PIN y tu nombre. Ej: JOIN 1234 Ana
    .voice = Este número no está registrado.
join-usage = Para registrarte, envía JOIN, tu PIN y tu nombre. Ej: JOIN 1234 Ana
    .voice = Marca tu PIN de registro y luego la tecla numeral.
join-wrong-pin = Ese PIN no es correcto. Revísalo con tu encargado e inténtalo de nuevo.
    .voice = Ese PIN no es correcto.
join-locked = Demasiados PIN incorrectos desde este número. Inténtalo en una hora.
    .voice = Demasiados PIN incorrectos desde este número. Inténtalo en una hora.
join-welcome = ¡Hola, { $name }! Registro completo. Envía ACTIVO para recibir llamadas o AYUDA para ver los comandos.
    .voice = Bienvenido. Registro completo.
join-already = Este número ya está registrado a nombre de { $name }. Envía AYUDA para ver los comandos.
    .voice = Este número ya está registrado a nombre de { $name }.

## Conectarse y desconectarse
online = Estás en línea para { $skills }. Envía SALIR cuando termines.
    .voice = Estás en línea para { $skills }.
already-online = Ya estás en línea para { $skills }. Envía SALIR cuando termines.
    .voice = Ya estás en línea para { $skills }.
offline = Estás fuera de línea. Envía ACTIVO cuando quieras volver.
    .voice = Estás fuera de línea.
already-offline = Ya estás fuera de línea. Envía ACTIVO cuando quieras volver.
    .voice = Ya estás fuera de línea.
operator-offline = Tu encargado te puso fuera de línea: no te llegarán llamadas. Envía ACTIVO cuando quieras volver.

## El menú de habilidades
skill-menu = Elige tus habilidades: { $menu }. Responde con números (ej. 1 3) o TODAS.
    .voice = Marca los números de tus habilidades y luego la tecla numeral. { $menu }.
skill-menu-first = ¡Hola { $name }! Elige tus habilidades: { $menu }. Responde con números (ej. 1 3) o TODAS.
    .voice = Hola { $name }. Primero elige tus habilidades: marca sus números y luego la tecla numeral. { $menu }.
menu-no-such-number = No hay habilidad { $number }. Responde con números del 1 al { $count }, o TODAS. NO cancela.
    .voice = No hay habilidad { $number }.
menu-unmatched = No encontré "{ $text }" en la lista. Responde con números, como 1 3, o TODAS. NO cancela.
    .voice = Perdón, no te entendí.
menu-blank = Responde con números, como 1 3, o TODAS. NO cancela.
    .voice = Perdón, no te entendí.
menu-expired = Ese menú caducó tras 15 minutos y no cambió nada. Envía HABILIDADES para empezar otra vez.
    .voice = Ese menú caducó y no cambió nada.
confirm-skills = Elegiste { $skills }. Responde SI para guardar o NO para cancelar.
    .voice = Elegiste { $skills }. Oprime 1 para guardar o 2 para cancelar.
confirm-skills-online = Elegiste { $skills }. Responde SI para guardar y entrar en línea, o NO para cancelar.
    .voice = Elegiste { $skills }. Oprime 1 para guardar y entrar en línea, o 2 para cancelar.
confirm-unclear = Responde SI para guardar { $skills }, o NO para cancelar.
    .voice = Oprime 1 para guardar { $skills }, o 2 para cancelar.
skills-saved = Guardado. Tus habilidades: { $skills }.
    .voice = Guardado. Tus habilidades son { $skills }.
skills-saved-online = Guardado. Estás en línea para { $skills }. Envía SALIR cuando termines.
    .voice = Guardado. Estás en línea para { $skills }.
cancelled-offline = Cancelado, no cambió nada. Sigues fuera de línea.
    .voice = Cancelado, no cambió nada. Sigues fuera de línea.
cancelled-online = Cancelado, no cambió nada. Sigues en línea.
    .voice = Cancelado, no cambió nada. Sigues en línea.
nothing-to-confirm = No hay nada que confirmar ahora. Envía AYUDA para ver los comandos.
    .voice = No hay nada que confirmar.
no-skills = ninguna

## Estado, ayuda, idioma
status-online = { $name }, estás en línea para { $skills }.
    .voice = { $name }, estás en línea para { $skills }.
status-offline = { $name }, estás fuera de línea. Habilidades: { $skills }. Envía ACTIVO para recibir llamadas.
    .voice = { $name }, estás fuera de línea. Tus habilidades son { $skills }.
status-offline-no-skills = { $name }, estás fuera de línea y sin habilidades. Envía ACTIVO para elegirlas.
    .voice = { $name }, estás fuera de línea y aún no tienes habilidades.
status-online-until = { $name }, estás en línea para { $skills } hasta { $until }.
    .voice = { $name }, estás en línea para { $skills } hasta { $until }.
status-offline-until = { $name }, estás fuera de línea hasta { $until }. Envía ACTIVO para volver antes.
    .voice = { $name }, estás fuera de línea hasta { $until }.
help = ACTIVO para recibir llamadas, SALIR para parar, HABILIDADES, HORARIO lun-vie 9-17, ESTADO, LANG EN para inglés.
    .voice = Oprime 1 para entrar en línea, 2 para salir, 3 para cambiar tus habilidades o 4 para oír tu estado.
lang-set = Listo, te escribiré en español. Envía AYUDA para ver los comandos.
    .voice = Listo, te hablaré en español.
lang-options = Envía LANG ES para español o LANG EN para inglés.
    .voice = Puedes usar inglés o español.
not-understood = No entendí "{ $text }". Envía ACTIVO, SALIR, HABILIDADES, ESTADO o AYUDA.
    .voice = Perdón, no te entendí.
not-understood-blank = No pude leer eso. Envía ACTIVO, SALIR, HABILIDADES, ESTADO o AYUDA.
    .voice = Perdón, no te entendí.
not-understood-closest = No entendí "{ $text }". ¿Quisiste decir { $commands }? Envía AYUDA para ver todo.
    .voice = Perdón, no entendí.
confirm-guess = ¿Quisiste decir { $command }? Responde SI o NO.
    .voice = ¿Quisiste decir { $command }? Marca 1 para sí, o 2 para no.
confirm-guess-hold = ¿Quisiste decir { $command } hasta las { $until }? Responde SI o NO.
    .voice = ¿Quisiste decir { $command } hasta las { $until }? Marca 1 para sí, o 2 para no.
later-online = Por ahora no cambió nada. Envía ACTIVO cuando puedas recibir llamadas, o pon tu HORARIO.
    .voice = No cambió nada. Llama otra vez cuando puedas recibir llamadas.
later-offline = Por ahora no cambió nada. Envía SALIR cuando termines, o SALIR por 30m para un descanso.
    .voice = No cambió nada. Llama otra vez cuando termines.

## Nombres de los comandos, como se envían
command-on = ACTIVO
command-off = SALIR
command-skills = HABILIDADES
command-schedule = HORARIO
command-status = ESTADO
command-help = AYUDA
command-lang = IDIOMA
command-yes = SI
command-no = NO
command-stop = STOP
command-start = START
command-tz = ZONA
command-join = UNIRSE
word-or = o

## Baja del operador
opted-out = Estás fuera de línea y no recibirás más mensajes nuestros. Envía START para deshacerlo.
    .voice = Estás fuera de línea y no recibirás mensajes nuestros.
opted-in = Listo, volverás a recibir nuestros mensajes.

## Llamadas: lo que oyen clientes y trabajadores, y los mensajes sobre llamadas
customer-greeting = Gracias por llamar.
customer-menu-item = Para { $skill }, oprima { $digit }.
customer-no-choice = Perdón, no le entendí.
customer-hold = Por favor, no cuelgue. La próxima persona disponible le atenderá.
customer-position = Usted es el número { $position } en la fila.
customer-hold-callback = O oprima { $key } para colgar y que le llamemos a este número cuando alguien esté libre.
customer-callback-thanks = Gracias. Le llamaremos a este número en cuanto alguien esté libre. Adiós.
# La llamada al trabajador. El aviso nunca nombra a quien llama (puede escuchar un
# buzón de voz); el susurro al conectar sí, cuando ya contestó una persona.
whisper-press1 = Llamada de { $skill }. Oprima 1 para tomarla.
whisper-connect = Llamada de { $skill }. Conectando.
whisper-connect-city = Llamada de { $skill } desde { $city }. Conectando.
whisper-connect-digits = Llamada de { $skill } de un número que termina en { $digits }. Conectando.
connecting = Conectando.
connecting-city = Llamada desde { $city }. Conectando.
connecting-digits = Llamada de un número que termina en { $digits }. Conectando.
whisper-goodbye = De acuerdo, la llamada pasará a otra persona. Adiós.
whisper-callback-press1 = Devolución de llamada de { $skill }. Oprima 1 para llamar al cliente.
whisper-callback = Devolución de llamada de { $skill }, pedida { $asked }.
whisper-callback-city = Devolución de llamada de { $skill } para alguien de { $city }, pedida { $asked }.
whisper-callback-digits = Devolución de llamada de { $skill } a un número que termina en { $digits }, pedida { $asked }.
whisper-asked-today = a las { $time }
whisper-asked-yesterday = ayer a las { $time }
whisper-asked-earlier = el { $date } a las { $time }
whisper-callback-message = Su mensaje:
whisper-callback-dialing = Llamando ahora.
whisper-callback-retry = El cliente no contestó. Lo intentaremos más tarde. Adiós.
whisper-callback-closed = El cliente volvió a no contestar, así que la solicitud se cerró. Adiós.
voicemail-prompt = Lo sentimos, nadie puede atender su llamada ahora. Deje un mensaje después del tono y le llamaremos.
voicemail-thanks = Gracias. Adiós.
voicemail-notify = Nuevo mensaje de voz de { $caller } ({ $skill }, { $seconds } s). Escuchar: { $url }
voicemail-notify-words = Nuevo mensaje de voz de { $caller } ({ $skill }, { $seconds } s): "{ $words }" Escuchar: { $url }
callback-abandoned = Devolución cerrada: { $caller } ({ $skill }) no contestó { $attempts } llamadas.
missed-calls-offline = No contestaste { $count } llamadas seguidas, así que estás fuera de línea. Envía ACTIVO cuando quieras volver.

## La línea de registro (solo voz)
ivr-hello-online = Hola { $name }, estás en línea.
ivr-hello-offline = Hola { $name }, estás fuera de línea.
ivr-menu = Oprime 1 para entrar en línea, 2 para salir, 3 para cambiar tus habilidades, 4 para oír tu estado, o 9 para repetir. También puedes decir en línea o fuera de línea.
ivr-no-input = No escuché nada.
ivr-goodbye = Adiós.
ivr-not-registered = Este número no está registrado para turnos. Pide a tu encargado que te agregue. Adiós.
ivr-pin = Este número no está registrado. Si tienes un PIN de registro, márcalo ahora y luego la tecla numeral.

## Horarios semanales y zonas horarias
schedule-ask = Envía tu horario semanal, por ejemplo: lun-vie 9-17, o sab 22-6. Hora de { $zone }. NO cancela.
    .voice = Manda tu horario semanal por mensaje a este número, por ejemplo lun-vie 9-17.
schedule-unclear = No encontré horas en "{ $text }". Envíalas así: lun-vie 9-17 (hora de { $zone }), o NO para cancelar.
    .voice = Perdón, no entendí.
confirm-schedule = { $schedule }, hora de { $zone }. Responde SI para guardar o NO para cancelar.
    .voice = { $schedule }, hora de { $zone }. Oprime 1 para guardar o 2 para cancelar.
confirm-schedule-clear = ¿Borrar tu horario semanal? Responde SI o NO.
    .voice = ¿Borrar tu horario semanal? Oprime 1 para sí o 2 para no.
confirm-schedule-unclear = Responde SI para guardar el horario o NO para cancelar.
    .voice = Oprime 1 para guardar el horario o 2 para cancelar.
schedule-invalid = No entendí ese horario. Ejemplo: HORARIO lun-vie 9-17. No cambió nada.
schedule-saved = Guardado: { $schedule }, hora de { $zone }. Próximo: { $next }.
schedule-cleared = Tu horario semanal está borrado.
status-schedule = Horario: { $schedule }, hora de { $zone }. Próximo: { $next }.
tz-set = Listo, tu zona horaria es { $zone }.
tz-unknown = No conozco ese lugar. Envía ZONA y una ciudad, por ejemplo: ZONA Madrid.
    .voice = No conozco ese lugar.
shift-started = Empezó tu turno: estás en línea para { $skills }. Envía SALIR para parar.
shift-ended = Terminó tu turno: estás fuera de línea. Próximo turno: { $next }.
shift-no-skills = Empezó tu turno, pero aún no tienes habilidades. Envía HABILIDADES para elegirlas.

## ACTIVO y SALIR por un rato
hold-online = Estás en línea para { $skills } hasta { $until }.
hold-offline = Estás fuera de línea hasta { $until }.
hold-over-online = Terminó tu pausa: estás en línea otra vez para { $skills }. Envía SALIR para parar.
hold-over-offline = Terminó tu tiempo en línea: estás fuera de línea. Envía ACTIVO cuando quieras volver.
