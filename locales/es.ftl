# shiftline, español. El valor es el texto del SMS; un atributo `.voice`, donde lo hay, es
# lo que dice el IVR. Á, í, ó, ú no son GSM-7: un SMS con ellas se parte en trozos de 67
# caracteres, y una prueba falla si una respuesta pasa de dos.

## Números que no están en la lista
not-registered = Este número no está registrado para turnos. Pide a tu encargado que te agregue.
not-registered-join = Este número no está registrado. Si tienes un PIN, envía JOIN, el PIN y tu nombre. Ej: JOIN 1234 Ana
join-usage = Para registrarte, envía JOIN, tu PIN y tu nombre. Ej: JOIN 1234 Ana
join-wrong-pin = Ese PIN no es correcto. Revísalo con tu encargado e inténtalo de nuevo.
join-locked = Demasiados PIN incorrectos desde este número. Inténtalo en una hora.
join-welcome = ¡Hola, { $name }! Registro completo. Envía ACTIVO para recibir llamadas o AYUDA para ver los comandos.
join-already = Este número ya está registrado a nombre de { $name }. Envía AYUDA para ver los comandos.

## Conectarse y desconectarse
online = Estás en línea para { $skills }. Envía SALIR cuando termines.
already-online = Ya estás en línea para { $skills }. Envía SALIR cuando termines.
offline = Estás fuera de línea. Envía ACTIVO cuando quieras volver.
already-offline = Ya estás fuera de línea. Envía ACTIVO cuando quieras volver.

## El menú de habilidades
skill-menu = Elige tus habilidades: { $menu }. Responde con números (ej. 1 3) o TODAS.
skill-menu-first = ¡Hola { $name }! Elige tus habilidades: { $menu }. Responde con números (ej. 1 3) o TODAS.
menu-no-such-number = No hay habilidad { $number }. Responde con números del 1 al { $count }, o TODAS. NO cancela.
menu-unmatched = No encontré "{ $text }" en la lista. Responde con números, como 1 3, o TODAS. NO cancela.
menu-blank = Responde con números, como 1 3, o TODAS. NO cancela.
menu-expired = Ese menú caducó tras 15 minutos y no cambió nada. Envía HABILIDADES para empezar otra vez.
confirm-skills = Elegiste { $skills }. Responde SI para guardar o NO para cancelar.
confirm-skills-online = Elegiste { $skills }. Responde SI para guardar y entrar en línea, o NO para cancelar.
confirm-unclear = Responde SI para guardar { $skills }, o NO para cancelar.
skills-saved = Guardado. Tus habilidades: { $skills }.
skills-saved-online = Guardado. Estás en línea para { $skills }. Envía SALIR cuando termines.
cancelled-offline = Cancelado, no cambió nada. Sigues fuera de línea.
cancelled-online = Cancelado, no cambió nada. Sigues en línea.
nothing-to-confirm = No hay nada que confirmar ahora. Envía AYUDA para ver los comandos.
no-skills = ninguna

## Estado, ayuda, idioma
status-online = { $name }, estás en línea para { $skills }.
status-offline = { $name }, estás fuera de línea. Habilidades: { $skills }. Envía ACTIVO para recibir llamadas.
status-offline-no-skills = { $name }, estás fuera de línea y sin habilidades. Envía ACTIVO para elegirlas.
help = ACTIVO para recibir llamadas, SALIR para parar, HABILIDADES para cambiarlas, ESTADO, LANG EN para inglés.
lang-set = Listo, te escribiré en español. Envía AYUDA para ver los comandos.
lang-options = Envía LANG ES para español o LANG EN para inglés.
not-understood = No entendí "{ $text }". Envía ACTIVO, SALIR, HABILIDADES, ESTADO o AYUDA.
not-understood-blank = No pude leer eso. Envía ACTIVO, SALIR, HABILIDADES, ESTADO o AYUDA.
schedule-unavailable = Los horarios semanales aún no están disponibles. Envía ACTIVO o SALIR para cambiar tu estado.

## Baja del operador
opted-out = Estás fuera de línea y no recibirás más mensajes nuestros. Envía START para deshacerlo.
opted-in = Listo, volverás a recibir nuestros mensajes.

## Llamadas: lo que oyen clientes y trabajadores, y los mensajes sobre llamadas
customer-greeting = Gracias por llamar.
customer-menu-item = Para { $skill }, oprima { $digit }.
customer-no-choice = Perdón, no le entendí.
customer-hold = Por favor, no cuelgue. La próxima persona disponible le atenderá.
customer-position = Usted es el número { $position } en la fila.
whisper-connect = Llamada de { $skill } desde { $caller }. Conectando.
whisper-press1 = Llamada de { $skill } desde { $caller }. Oprima 1 para tomarla.
connecting = Conectando.
whisper-goodbye = De acuerdo, la llamada pasará a otra persona. Adiós.
voicemail-prompt = Lo sentimos, nadie puede atender su llamada ahora. Deje un mensaje después del tono y le llamaremos.
voicemail-thanks = Gracias. Adiós.
voicemail-notify = Nuevo mensaje de voz de { $caller } ({ $skill }, { $seconds } s): { $url }
missed-calls-offline = No contestaste { $count } llamadas seguidas, así que estás fuera de línea. Envía ACTIVO cuando quieras volver.
